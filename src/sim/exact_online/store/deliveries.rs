//! Goods deliveries: how an order's delivery state moves in Exact Online. A delivery line names
//! a sales order line (`SalesOrderLineID`) and the quantity delivered; the order line's
//! `QuantityDelivered` and `DeliveryStatus` follow, and then the order's `DeliveryStatus` and
//! `Status` (12 open, 20 partial, 21 complete; reference section 6).

use super::super::wire::{date, ApiError};
use super::rules::describe_status;
use super::{bad, num, s, Store};
use serde_json::{json, Map, Value};

impl Store {
    /// Header defaults of a new delivery: numbers from their sequences, today's date.
    pub(super) fn delivery_rules(&mut self, b: &mut Map<String, Value>, now: i64) {
        let n = self.next_seq("DeliveryNumber");
        b.insert("DeliveryNumber".into(), json!(n));
        let e = self.next_seq("DeliveryEntryNumber");
        b.insert("EntryNumber".into(), json!(e));
        b.entry("DeliveryDate").or_insert(json!(date(now)));
        b.insert("Warehouse".into(), json!(self.warehouse_id()));
        b.insert("WarehouseCode".into(), json!("1"));
        b.insert("WarehouseDescription".into(), json!("Hoofdmagazijn"));
    }

    /// Checks a delivery line against its order line and copies what the service copies.
    pub(super) fn delivery_line_rules(
        &self,
        l: &mut Map<String, Value>,
        header: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let line_id = s(l.get("SalesOrderLineID"));
        let line = self
            .get("SalesOrderLines", &line_id)
            .ok_or_else(|| bad(format!("Sales order line not found: {line_id}")))?;
        let order = self
            .get("SalesOrders", &s(line.data.get("OrderID")))
            .ok_or_else(|| bad("Sales order not found"))?;
        if order.data.get("Status").and_then(Value::as_i64) == Some(45) {
            return Err(bad(
                "The sales order is cancelled and can not be delivered.",
            ));
        }
        let ordered = num(line.data.get("Quantity"));
        let left = ordered - num(line.data.get("QuantityDelivered"));
        if left <= 0.0 {
            return Err(bad(format!(
                "Sales order {} line {} has been delivered completely.",
                order.data.get("OrderNumber").unwrap_or(&Value::Null),
                line.data.get("LineNumber").unwrap_or(&Value::Null)
            )));
        }
        let qty = num(l.get("QuantityDelivered"));
        if qty <= 0.0 {
            return Err(bad("QuantityDelivered must be greater than zero."));
        }
        for (to, from) in [
            ("Item", "Item"),
            ("ItemCode", "ItemCode"),
            ("ItemDescription", "ItemDescription"),
            ("SalesOrderLineNumber", "LineNumber"),
            ("SalesOrderNumber", "OrderNumber"),
            ("Unitcode", "UnitCode"),
        ] {
            l.insert(
                to.into(),
                line.data.get(from).cloned().unwrap_or(Value::Null),
            );
        }
        l.insert("QuantityOrdered".into(), json!(ordered));
        l.insert("SalesOrderLineID".into(), json!(line_id.to_lowercase()));
        l.entry("Description")
            .or_insert(line.data.get("Description").cloned().unwrap_or(Value::Null));
        l.insert(
            "DeliveryDate".into(),
            header.get("DeliveryDate").cloned().unwrap_or(Value::Null),
        );
        Ok(())
    }

    /// Side effects of a new record on other records (deliveries move orders).
    pub(super) fn after_create(
        &mut self,
        table: &str,
        key: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        match table {
            "GoodsDeliveries" => {
                let lines: Vec<String> = self
                    .children("GoodsDeliveryLines", key)
                    .iter()
                    .map(|r| s(r.data.get("ID")))
                    .collect();
                if let Some(first) = lines.first() {
                    self.delivery_header_from_order(key, first);
                }
                for l in lines {
                    self.deliver(&l, now);
                }
            }
            "GoodsDeliveryLines" => self.deliver(key, now),
            _ => {}
        }
        Ok(())
    }

    /// The delivery header names the customer, address and shipping method of the order.
    fn delivery_header_from_order(&mut self, entry: &str, line: &str) {
        let order = self
            .get("GoodsDeliveryLines", line)
            .and_then(|l| self.get("SalesOrderLines", &s(l.data.get("SalesOrderLineID"))))
            .and_then(|l| self.get("SalesOrders", &s(l.data.get("OrderID"))))
            .map(|o| o.data.clone())
            .unwrap_or_default();
        let account = s(order.get("DeliverTo"));
        let (code, name) = self
            .get("Accounts", &account)
            .map(|a| (a.data.get("Code").cloned(), a.data.get("Name").cloned()))
            .unwrap_or_default();
        let method = s(order.get("ShippingMethod"));
        let (m_code, m_desc) = self
            .get("ShippingMethods", &method)
            .map(|m| {
                (
                    m.data.get("Code").cloned(),
                    m.data.get("Description").cloned(),
                )
            })
            .unwrap_or_default();
        if let Some(row) = self
            .tables
            .get_mut("GoodsDeliveries")
            .and_then(|t| t.get_mut(entry))
        {
            let d = &mut row.data;
            d.insert("DeliveryAccount".into(), json!(account));
            d.insert("DeliveryAccountCode".into(), code.unwrap_or(Value::Null));
            d.insert("DeliveryAccountName".into(), name.unwrap_or(Value::Null));
            let address = order.get("DeliveryAddress").cloned();
            d.insert("DeliveryAddress".into(), address.unwrap_or(Value::Null));
            let contact = order.get("DeliverToContactPerson").cloned();
            d.insert("DeliveryContact".into(), contact.unwrap_or(Value::Null));
            if d.get("ShippingMethod").is_none_or(Value::is_null) && !method.is_empty() {
                d.insert("ShippingMethod".into(), json!(method));
            }
            d.insert("ShippingMethodCode".into(), m_code.unwrap_or(Value::Null));
            d.insert(
                "ShippingMethodDescription".into(),
                m_desc.unwrap_or(Value::Null),
            );
        }
    }

    /// Books one delivery line on its order line, then moves the order's statuses.
    fn deliver(&mut self, delivery_line: &str, now: i64) {
        let Some(l) = self.get("GoodsDeliveryLines", delivery_line) else {
            return;
        };
        let qty = num(l.data.get("QuantityDelivered"));
        let line_id = s(l.data.get("SalesOrderLineID"));
        let Some(line) = self.get("SalesOrderLines", &line_id) else {
            return;
        };
        let done = num(line.data.get("QuantityDelivered")) + qty;
        let status = if done >= num(line.data.get("Quantity")) {
            21
        } else {
            20
        };
        let order = s(line.data.get("OrderID"));
        self.patch(
            "SalesOrderLines",
            &line_id,
            &[
                ("QuantityDelivered", json!(done)),
                ("DeliveryStatus", json!(status)),
                ("OrderStatus", json!(status)),
            ],
            now,
        );
        self.order_delivery_state(&order, now);
    }

    /// An order is delivered completely when every line is; partly when any line is.
    fn order_delivery_state(&mut self, order: &str, now: i64) {
        let lines = self.children("SalesOrderLines", order);
        let all = !lines.is_empty()
            && lines
                .iter()
                .all(|l| num(l.data.get("QuantityDelivered")) >= num(l.data.get("Quantity")));
        let any = lines
            .iter()
            .any(|l| num(l.data.get("QuantityDelivered")) > 0.0);
        let delivery = if all {
            21
        } else if any {
            20
        } else {
            12
        };
        let Some(mut data) = self.get("SalesOrders", order).map(|r| r.data.clone()) else {
            return;
        };
        data.insert("DeliveryStatus".into(), json!(delivery));
        data.insert("Status".into(), json!(delivery));
        describe_status(&mut data);
        let fields: Vec<(&str, Value)> = [
            "DeliveryStatus",
            "Status",
            "StatusDescription",
            "DeliveryStatusDescription",
        ]
        .into_iter()
        .map(|f| (f, data.get(f).cloned().unwrap_or(Value::Null)))
        .collect();
        self.patch("SalesOrders", order, &fields, now);
    }
}
