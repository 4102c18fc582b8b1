#!/usr/bin/env python3
"""Regenerates entities.json (the simulator's field catalogue) from the shared reference.

Usage: python3 gen_entities.py ../../../../shared/reference/exact-online-schema.json supplement.json > entities.json
supplement.json adds the endpoints the schema lacks (see its "about"). Each property is "Name|Type|flags": g = readable, p = writable on POST, u = writable on PUT,
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
    if len(sys.argv) > 2:
        supplement(out, json.load(open(sys.argv[2]))["endpoints"])
    json.dump(out, sys.stdout, indent=0, separators=(",", ":"))
    sys.stdout.write("\n")


def supplement(out, extra):
    """Adds the supplement's endpoints: explicit ones first, then the ones derived ('like')."""
    for path, ep in extra.items():
        if "like" in ep:
            continue
        prefix = "Sync" if path.startswith("sync/") else "Bulk" if path.startswith("bulk/") else ""
        if "names" in ep:
            types = {}
            for src in ep["types_from"]:
                for p in out[src]["props"]:
                    name, ty, _ = p.split("|")
                    types.setdefault(name, ty)
            types["Timestamp"] = "Edm.Int64"
            # A name may carry its type ("Name|Edm.Boolean") when the CRUD endpoint lacks it.
            props = [n + "|g" if "|" in n else f"{n}|{types.get(n, 'Edm.String')}|g"
                     for n in ep["names"]]
        else:
            props = ep["props"]
        out[path] = {"key": ep["key"], "methods": ep["methods"],
                     "type": "Exact.Web.Api.Models." + prefix + ep["type"], "props": props}
    for path, ep in extra.items():
        if "like" not in ep:
            continue
        base = out[ep["like"]]
        drop = set(ep.get("drop", []))
        readable = [p for p in base["props"] if "g" in p.split("|")[2] and p.split("|")[0] not in drop]
        short = base["type"].rsplit(".", 1)[-1]
        if ep["kind"] == "copy":
            out[path] = dict(base)
            continue
        if ep["kind"] == "sync":
            props = ["Timestamp|Edm.Int64|g"] + [
                "|".join(p.split("|")[:2]) + "|g" for p in readable if p.split("|")[1].startswith("Edm.")]
            key, prefix = "Timestamp", "Sync"
        else:
            props = ["|".join(p.split("|")[:2]) + "|g" for p in readable]
            key, prefix = base["key"], "Bulk"
        props += ep.get("add", [])
        out[path] = {"key": key, "methods": ["GET"], "type": "Exact.Web.Api.Models." + prefix + short,
                     "props": props}


main()
