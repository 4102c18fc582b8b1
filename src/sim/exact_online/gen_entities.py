#!/usr/bin/env python3
"""Regenerates entities.json (the simulator's field catalogue) from the shared reference.

Usage: python3 gen_entities.py ../../../../shared/reference/exact-online-schema.json > entities.json
Each property is "Name|Type|flags": g = readable, p = writable on POST, u = writable on PUT,
m = mandatory on POST. Unknown (null) post/put flags count as writable.
"""
import json
import sys

TYPE_NAMES = {
    "SalesOrders": "SalesOrder", "SalesOrderLines": "SalesOrderLine", "Accounts": "Account",
    "Contacts": "Contact", "Addresses": "Address", "Items": "Item", "ItemGroups": "ItemGroup",
    "SalesItemPrices": "SalesItemPrice", "SalesInvoices": "SalesInvoice",
    "SalesInvoiceLines": "SalesInvoiceLine", "SalesEntries": "SalesEntry",
    "SalesEntryLines": "SalesEntryLine", "VATCodes": "VATCode",
    "PaymentConditions": "PaymentCondition", "ShippingMethods": "ShippingMethod",
    "GLAccounts": "GLAccount", "Costcenters": "Costcenter", "Costunits": "Costunit",
    "StockPosition": "StockPosition", "StockPositions": "StockPosition",
    "SalesOrderHeaders": "SalesOrderHeader", "Deleted": "Deleted",
    "WebhookSubscriptions": "WebhookSubscription", "Me": "Me",
    "AccountClassifications": "AccountClassification",
    "AccountClassificationNames": "AccountClassificationName", "AccountClasses": "AccountClass",
    "ItemAssortment": "ItemAssortment", "ItemAssortmentProperty": "ItemAssortmentProperty",
    "ItemExtraField": "ItemExtraField",
}


def main():
    src = json.load(open(sys.argv[1]))
    out = {}
    for path, ep in src["endpoints"].items():
        last = path.split("/")[-1]
        prefix = "Sync" if path.startswith("sync/") else "Bulk" if path.startswith("bulk/") else ""
        props = []
        for p in ep["properties"]:
            flags = ""
            if p.get("get"):
                flags += "g"
            if p.get("post") is not False and "POST" in ep["methods"]:
                flags += "p"
            if p.get("put") is not False and "PUT" in ep["methods"]:
                flags += "u"
            if p.get("mandatory"):
                flags += "m"
            props.append(f'{p["name"]}|{p["type"]}|{flags}')
        out[path] = {
            "key": ep.get("key"),
            "methods": ep["methods"],
            "type": "Exact.Web.Api.Models." + prefix + TYPE_NAMES.get(last, last),
            "props": props,
        }
    json.dump(out, sys.stdout, indent=0, separators=(",", ":"))
    sys.stdout.write("\n")


main()
