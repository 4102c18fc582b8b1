#!/usr/bin/env python3
"""Writes N realistic Exact Online sales orders (10 lines each) as JSON lines, with the related
records exflow's orders pipeline joins (account, contact, delivery address, shipping method)
embedded under their binding names, as `exflow map` reads exported data.
Usage: python3 gen_orders.py N > orders.jsonl"""
import json, random, sys, uuid

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rnd = random.Random(42)
streets = ["Keizersgracht", "Damrak", "Coolsingel", "Oudegracht", "Grote Markt", "Meir", "Lange Nieuwstraat"]
cities = [("Amsterdam", "NL", "1017 AB"), ("Rotterdam", "NL", "3011 AD"), ("Utrecht", "NL", "3511 AA"),
          ("Antwerpen", "BE", "2000"), ("Gent", "BE", "9000")]
first = ["Jan", "Sanne", "Pieter", "Lotte", "Bram", "Fleur", "Lucas", "Emma"]
last = ["de Vries", "Jansen", "Peeters", "Bakker", "Maes", "Visser", "Claes"]
for i in range(n):
    city, country, pc = rnd.choice(cities)
    fn, ln = rnd.choice(first), rnd.choice(last)
    company = rnd.random() < 0.6
    name = f"{ln} {rnd.choice(['BV', 'NV', 'Handel', 'Groep'])}" if company else f"{fn} {ln}"
    email = f"{fn.lower()}.{ln.lower().replace(' ', '')}{i}@example.nl"
    lines = []
    for j in range(10):
        qty = rnd.randint(1, 12)
        price = round(rnd.uniform(2, 250), 2)
        lines.append({"ID": str(uuid.UUID(int=rnd.getrandbits(128))), "LineNumber": j + 1,
                      "ItemCode": f"ART-{rnd.randint(1000, 9999)}", "Description": f"Artikel {j + 1} van order {100000 + i}",
                      "Quantity": qty, "UnitPrice": price, "Discount": rnd.choice([0, 0, 0.05, 0.1]),
                      "AmountFC": round(qty * price, 2), "VATCode": rnd.choice(["2", "1"]), "VATPercentage": 0.21,
                      "CostCenter": rnd.choice([None, "100", "200"]), "CostUnit": None,
                      "DeliveryDate": "2026-12-0%dT00:00:00" % rnd.randint(1, 9)})
    order = {"OrderID": str(uuid.UUID(int=rnd.getrandbits(128))), "OrderNumber": 100000 + i, "Status": 12,
             "OrderDate": "2026-11-%02dT00:00:00" % rnd.randint(1, 28), "DeliveryDate": "2026-12-10T00:00:00",
             "Description": f"Webshop order {100000 + i}", "Currency": "EUR", "PaymentCondition": rnd.choice(["14", "30", "IN"]),
             "PaymentReference": f"PR{i:08d}", "Remarks": rnd.choice([None, "Graag bellen voor levering"]),
             "YourRef": f"WEB-{i}", "AmountDC": round(sum(l["AmountFC"] for l in lines), 2),
             "SalesOrderLines": lines,
             "account": {"ID": str(uuid.UUID(int=rnd.getrandbits(128))), "Code": f"{1000 + i:>18}", "Name": name,
                         "Email": email.upper() if i % 7 == 0 else email, "Phone": "+31 20 123 4567",
                         "AddressLine1": f"{rnd.choice(streets)} {rnd.randint(1, 300)}", "Postcode": pc.replace(" ", ""),
                         "City": city, "Country": country, "VATNumber": f"NL{rnd.randint(100000000, 999999999)}B01" if company else None,
                         "ChamberOfCommerce": str(rnd.randint(10000000, 99999999)) if company else None,
                         "PaymentConditionSales": "30", "SearchCode": name[:10].upper()},
             "contact": {"FirstName": fn, "LastName": ln, "Email": email},
             "delivery": {"AddressLine1": f"{rnd.choice(streets)} {rnd.randint(1, 300)}", "Postcode": pc, "City": city, "Country": country},
             "shipping": {"Code": rnd.choice(["POSTNL", "DHL", "DPD"])},
             "customer": {"DebtorNumber": f"{rnd.randint(1, 99999):>6}"}}
    sys.stdout.write(json.dumps(order, separators=(",", ":")) + "\n")
