//! Generated items: coffee, tea, mugs in colours and sizes, machines, services; GTINs,
//! prices, stock positions.

use super::super::store::Store;
use super::super::wire::date;
use super::{add, id_by_code, DAY_MS};
use rand::Rng;
use serde_json::{json, Value};

fn gtin(store: &mut Store) -> String {
    let mut digits: Vec<u32> = vec![8, 7];
    for _ in 0..10 {
        digits.push(store.rng.gen_range(0..10));
    }
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect()
}

/// Item kinds: (group, code, description, extra, VAT code, price, stock item).
/// What a shop keeps on an item beyond its name and price, as Exact Online holds it: the
/// item classifications `Class_01` (size) and `Class_02` (colour) with `FreeTextField_03`
/// naming the model a variant belongs to; free fields for the characteristics (country of
/// origin, product type, delivery time in days); a long description in `Notes`.
fn characteristics(group: &str, code: &str, extra: &str) -> Value {
    let field = |label: &str| {
        extra
            .split("; ")
            .find_map(|part| part.strip_prefix(label))
            .map(|v| v.trim().to_string())
    };
    let (kind, days) = match group {
        "KOF" => ("Koffiebonen", 2),
        "SER" => ("Servies", 3),
        "THE" => ("Thee", 2),
        "APP" => ("Apparaat", 5),
        _ => ("Dienst", 0),
    };
    let mut out = json!({
        "FreeTextField_02": kind,
        "FreeNumberField_01": days,
    });
    if let Some(origin) = field("Herkomst: ") {
        // Country of origin as its ISO code, where Globe's country list has it (blends have
        // none).
        let iso = match origin.as_str() {
            "Brazilië" => Some("BR"),
            "Colombia" => Some("CO"),
            "Peru" => Some("PE"),
            _ => None,
        };
        if let Some(iso) = iso {
            out["FreeTextField_01"] = json!(iso);
        }
        out["Notes"] = json!(format!(
            "Single origin uit {origin}, vers gebrand in Nederland. Bewaar koel en droog."
        ));
    }
    // Mugs come in colours and sizes: variants of one model, `MOK`.
    if let Some(rest) = code.strip_prefix("MOK-") {
        if let Some((colour, size)) = rest.rsplit_once('-') {
            out["Class_01"] = json!(size);
            out["Class_02"] = json!(colour);
            out["FreeTextField_03"] = json!("MOK");
            out["FreeTextField_01"] = json!("NL");
        }
    }
    out
}

fn catalogue() -> Vec<(
    &'static str,
    String,
    String,
    String,
    &'static str,
    f64,
    bool,
)> {
    let mut out = vec![(
        "DIE",
        "VERZEND".to_string(),
        "Verzendkosten".to_string(),
        String::new(),
        "1",
        6.95,
        false,
    )];
    for (origin, tag) in [
        ("Brazilië", "BRA"),
        ("Colombia", "COL"),
        ("Ethiopië", "ETH"),
        ("Guatemala", "GUA"),
        ("Kenia", "KEN"),
        ("Peru", "PER"),
        ("Huisblend", "HUI"),
        ("Espresso Blend", "ESP"),
    ] {
        for (grams, price) in [(250, 6.95), (500, 12.95), (1000, 23.95)] {
            out.push((
                "KOF",
                format!("KOF-{tag}-{grams}"),
                format!("Koffiebonen {origin} {grams}g"),
                format!("Herkomst: {origin}; Gewicht: {grams} gram"),
                "2",
                price,
                true,
            ));
        }
    }
    for (colour, ctag) in [
        ("Rood", "ROOD"),
        ("Blauw", "BLAUW"),
        ("Zwart", "ZWART"),
        ("Wit", "WIT"),
    ] {
        for (size, price) in [("S", 7.50), ("M", 8.95), ("L", 9.95)] {
            out.push((
                "SER",
                format!("MOK-{ctag}-{size}"),
                format!("Mok {colour} maat {size}"),
                format!("Kleur: {colour}; Maat: {size}"),
                "1",
                price,
                true,
            ));
        }
    }
    for (tea, ttag) in [
        ("Earl Grey", "EARL"),
        ("Groene thee", "GROEN"),
        ("Rooibos", "ROOI"),
        ("Verse munt", "MUNT"),
        ("English Breakfast", "ENGB"),
        ("Chai", "CHAI"),
    ] {
        out.push((
            "THE",
            format!("THE-{ttag}-20"),
            format!("Thee {tea} 20 zakjes"),
            format!("Soort: {tea}"),
            "2",
            3.95,
            true,
        ));
    }
    for (name, tag, price) in [
        ("Espressomachine Barista Pro", "ESP-PRO", 1299.0),
        ("Espressomachine Compact", "ESP-CMP", 449.0),
        ("Koffiemolen Conisch", "MOL-CON", 189.0),
        ("Melkopschuimer", "MLK-OPS", 89.0),
        ("Waterkoker Temperatuur", "WAT-TMP", 69.0),
    ] {
        out.push((
            "APP",
            format!("APP-{tag}"),
            name.to_string(),
            "Garantie: 2 jaar".to_string(),
            "1",
            price,
            true,
        ));
    }
    for (origin, tag) in [
        ("Brazilië", "BRA"),
        ("Colombia", "COL"),
        ("Ethiopië", "ETH"),
        ("Huisblend", "HUI"),
        ("Espresso Blend", "ESP"),
        ("Decaf", "DEC"),
    ] {
        for (pack, price) in [(10, 3.95), (50, 17.95), (100, 32.95)] {
            out.push((
                "KOF",
                format!("CAP-{tag}-{pack}"),
                format!("Koffiecups {origin} {pack} stuks"),
                format!("Herkomst: {origin}; Verpakking: {pack} cups"),
                "2",
                price,
                true,
            ));
        }
    }
    for (name, tag, price, vat) in [
        ("Installatie espressomachine", "INSTALL", 95.0, "1"),
        ("Onderhoudscontract 1 jaar", "ONDERH-1J", 249.0, "1"),
        ("Barista workshop", "WORKSHOP", 59.0, "1"),
        ("Cadeaubon 25 euro", "CADEAU-25", 25.0, "0"),
    ] {
        out.push((
            "DIE",
            format!("DIE-{tag}"),
            name.to_string(),
            String::new(),
            vat,
            price,
            false,
        ));
    }
    out
}

/// Creates `n` items with prices and stock; returns (ID, price, stock item) per item.
pub(super) fn items(
    store: &mut Store,
    n: usize,
    now: i64,
) -> Result<Vec<(String, f64, bool)>, String> {
    let mut all = catalogue();
    // Keep VERZEND first, shuffle the rest deterministically, then cut to n.
    for i in (2..all.len()).rev() {
        let j = 1 + store.pick(i);
        all.swap(i, j);
    }
    // Beyond the catalogue: numbered accessories, so any --products N is honoured.
    let mut extra = 1;
    while all.len() < n {
        all.push((
            "SER",
            format!("ACC-{extra:04}"),
            format!("Baristaccessoire {extra}"),
            String::new(),
            "1",
            4.95 + extra as f64,
            true,
        ));
        extra += 1;
    }
    all.truncate(n.max(1));
    let mut out = Vec::new();
    for (group, code, desc, extra, vat, price, stock) in all {
        let group_id = id_by_code(store, "ItemGroups", group);
        let barcode = if stock {
            json!(gtin(store))
        } else {
            Value::Null
        };
        let age = store.pick(365) as i64 + 90;
        let on_hand = if stock { store.pick(250) as f64 } else { 0.0 };
        let mut item = json!({
            "Code": code, "Description": desc, "ExtraDescription": if extra.is_empty() { Value::Null } else { json!(extra) },
            "Barcode": barcode, "IsSalesItem": true, "IsPurchaseItem": stock, "IsStockItem": stock, "IsWebshopItem": 1,
            "SalesVatCode": vat, "Unit": "stuk", "ItemGroup": group_id, "CostPriceStandard": (price * 0.55 * 100.0_f64).round() / 100.0,
            "StandardSalesPrice": price, "Stock": on_hand, "NetWeight": if group == "APP" { json!(6.5) } else { Value::Null },
            "StartDate": date(now - age * DAY_MS), "Created": date(now - age * DAY_MS), "Modified": date(now - age * DAY_MS / 2),
        });
        if let (Value::Object(item), Value::Object(more)) =
            (&mut item, characteristics(group, &code, &extra))
        {
            item.extend(more);
        }
        let id = add(store, "Items", item, now)?;
        add(
            store,
            "SalesItemPrices",
            json!({"Item": id, "ItemCode": code, "Currency": "EUR", "Price": price, "Quantity": 1.0, "Unit": "stuk", "NumberOfItemsPerUnit": 1.0, "StartDate": date(now - age * DAY_MS)}),
            now,
        )?;
        if stock {
            let sp_id = store.guid();
            add(
                store,
                "StockPositions",
                json!({"ItemId": id, "ID": sp_id, "ItemCode": code, "ItemDescription": desc, "InStock": on_hand, "CurrentStock": on_hand, "FreeStock": on_hand, "PlanningIn": 0.0, "PlanningOut": 0.0, "ProjectedStock": on_hand, "ReservedStock": 0.0, "ReorderPoint": 10.0, "UnitCode": "stuk", "WarehouseCode": "1", "WarehouseDescription": "Hoofdmagazijn"}),
                now,
            )?;
        }
        out.push((id, price, stock));
    }
    Ok(out)
}
