#!/usr/bin/env python3
"""Builds src/schema/*.json (the embedded entity catalogue) from the researched field lists in
../shared/reference/. Keeps facts only (names, types, lengths, flags); no descriptions.
Run from the project root: python3 tools/gen_catalogue.py ../shared/reference"""
import json, sys, os

ref = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"
out = os.path.join(os.path.dirname(__file__), "..", "src", "schema")

ONLINE_TYPES = {"Edm.String": "text", "Edm.Guid": "guid", "Edm.Double": "number", "Edm.DateTime": "date",
                "Edm.Boolean": "bool", "Edm.Int32": "int", "Edm.Byte": "int", "Edm.Int16": "int",
                "Edm.Int64": "int", "Edm.Binary": "binary"}
# Lengths the Exact Online reference states (the metadata carries none).
ONLINE_LENGTHS = {("Accounts", "Code"): 18, ("Items", "Code"): 30, ("Accounts", "Name"): 100}
# Match keys that make sense per entity (the property that identifies a record across systems).
ONLINE_MATCH = {"Accounts": ["Email", "Code", "ID"], "Contacts": ["Email", "ID"], "Items": ["Code", "ID"],
                "SalesOrders": ["OrderNumber", "YourRef", "OrderID"], "SalesOrderLines": ["ID"],
                "SalesInvoices": ["InvoiceNumber", "YourRef", "InvoiceID"], "ItemGroups": ["Code"],
                "VATCodes": ["Code"], "PaymentConditions": ["Code"], "ShippingMethods": ["Code"],
                "GLAccounts": ["Code"], "Costcenters": ["Code"], "Costunits": ["Code"]}
# Other names an entity's key goes by in some feeds.
ONLINE_KEY_ALIASES = {"SalesOrders": ["ID"], "SalesInvoices": ["ID"]}
# Online properties fixed on create (post but not put) are create-only by the API itself.

def online():
    d = json.load(open(os.path.join(ref, "exact-online-schema.json")))
    ents, sync, bulk = {}, {}, {}
    for path, e in d["endpoints"].items():
        parts = path.split("/")
        name = parts[-1]
        if parts[0] == "sync":
            sync[name] = path; continue
        if parts[0] == "bulk":
            bulk[name] = path; continue
        fields = []
        for p in e["properties"]:
            t = ONLINE_TYPES.get(p["type"])
            f = {"name": p["name"], "type": t or "list"}
            if t is None:
                f["item"] = p["type"].rstrip("[]")
            if (name, p["name"]) in ONLINE_LENGTHS:
                f["length"] = ONLINE_LENGTHS[(name, p["name"])]
            if p.get("mandatory"): f["required"] = True
            writable = bool(p.get("post")) or bool(p.get("put"))
            if not writable: f["read_only"] = True
            elif p.get("post") and p.get("put") is False: f["create_only"] = True
            if p["name"] == e.get("key"): f["key"] = True
            if name == "Accounts" and p["name"] == "Code": f["padded"] = True
            fields.append(f)
        ents[name] = {"path": path, "key": e.get("key"), "methods": e["methods"],
                      "match_keys": ONLINE_MATCH.get(name, [e["key"]] if e.get("key") else []),
                      "fields": fields}
    sync_of = {"SalesOrders": "SalesOrderHeaders", "Accounts": "Accounts", "Items": "Items",
               "SalesOrderLines": "SalesOrderLines", "StockPosition": "StockPositions"}
    def lacks(name, path):
        # What the CRUD entity has and the sync/bulk endpoint does not return: a pipeline that
        # reads one of these from a sync read needs it fetched from another endpoint.
        have = {p["name"] for p in d["endpoints"][path]["properties"]}
        return [f["name"] for f in ents[name]["fields"] if f["name"] not in have and f["type"] != "list"]
    for name, s in sync_of.items():
        if name in ents and s in sync:
            ents[name]["sync"] = sync[s]
            ents[name]["sync_lacks"] = lacks(name, sync[s])
    for name, b in bulk.items():
        if name in ents:
            ents[name]["bulk"] = b
            ents[name]["bulk_lacks"] = lacks(name, b)
    # Other names the key goes by: sync rows of orders and invoices carry `ID` beside it.
    for name, aliases in ONLINE_KEY_ALIASES.items():
        if name in ents: ents[name]["key_aliases"] = aliases
    if "Deleted" in sync: pass
    # Lines are a navigation property of the header.
    for hdr, line in [("SalesOrders", "SalesOrderLines"), ("SalesInvoices", "SalesInvoiceLines"),
                      ("SalesEntries", "SalesEntryLines")]:
        for f in ents[hdr]["fields"]:
            if f["name"] == line: f["type"] = "list"; f["item"] = line
    return {"system": "exact_online", "entities": ents}

GLOBE_TYPES = {"String": "text", "Number": "number", "Boolean": "bool", "Date": "date", "Double": "number",
               "GUID": "guid", "Integer": "int"}
# Assigned by Globe on create: never required from a pipeline.
GLOBE_ASSIGNED = {"ID", "TransactionKey", "ContactID", "SalesOrderNumber", "AccountCode", "DebtorNumber",
                  "DebtorCode", "CompanyCode", "EntryNumber", "InvoiceNumber", "ContactFullName"}
GLOBE_MATCH = {"Account": ["EmailAddress", "DebtorNumber", "AccountCode", "ID"], "ContactPerson": ["EmailAddress"],
               "Item": ["ItemCode", "GTIN"], "SalesOrderHeader": ["YourReference", "SalesOrderNumber"],
               "InvoiceHeader": ["YourReference"], "FinancialHeader": ["YourReference"],
               "ItemAssortment": ["Assortment"], "VAT": ["VATCode"], "PaymentCondition": ["PaymentCondition"],
               "ShippingMethod": ["Code"], "CostCenter": ["Code"], "CostUnit": ["Code"], "Warehouse": ["Code"]}
# Marked mandatory by the reference but only needed to delete a document.
GLOBE_NOT_REQUIRED = {"DeletionReason"}
GLOBE_READ_ONLY = {"CreatedDate", "ModifiedDate", "Creator", "Modifier", "CreatorName", "ModifierName",
                   "TotalAmount", "TotalAmountExcludingVAT", "TotalVATAmount", "SyncID"}
GLOBE_LINES = {"SalesOrderHeader": "SalesOrderLine", "InvoiceHeader": "InvoiceLine", "FinancialHeader": "FinancialLine"}

def globe():
    d = json.load(open(os.path.join(ref, "exact-globe-schema.json")))
    ents = {}
    for name, e in d["entities"].items():
        fields = []
        for p in e["properties"]:
            n = p.get("rest_name") or p["name"]
            f = {"name": n, "type": GLOBE_TYPES.get(p["type"], "text")}
            if p["type"] == "String" and p.get("length"): f["length"] = p["length"]
            if p.get("mandatory") and p.get("default") in (None, "") and n not in GLOBE_ASSIGNED \
                    and n not in GLOBE_NOT_REQUIRED:
                f["required"] = True
            if p.get("default") not in (None, ""): f["default"] = p["default"]
            if p.get("right_aligned") and p["type"] == "String": f["padded"] = True
            if n in GLOBE_READ_ONLY or p.get("auto_increment"): f["read_only"] = True
            if n == e.get("key"): f["key"] = True
            if p.get("values"): f["values"] = sorted(p["values"].keys())
            fields.append(f)
        ent = {"key": e.get("key"), "rest": e.get("rest"), "match_keys": GLOBE_MATCH.get(name, [e.get("key")]),
               "fields": fields}
        if name in GLOBE_LINES: ent["lines"] = GLOBE_LINES[name]
        ents[name] = ent
    return {"system": "exact_globe", "entities": ents}

for fname, data in [("exact_online.json", online()), ("exact_globe.json", globe())]:
    with open(os.path.join(out, fname), "w") as fh:
        json.dump(data, fh, indent=None, separators=(",", ":"), sort_keys=False)
        fh.write("\n")
    print(fname, len(data["entities"]), "entities")
