# The main map of pipelines/orders.yaml, written in jq, for the speed comparison in the README.
# Tables are inlined as objects; the rhai postcode helper as a jq function.
def payment_conditions: {"00":"00","14":"14","30":"30","60":"60","IN":"IN","PS":"VO"};
def shipping_methods: {"PNL":"PNL","DHL":"DHL","DPD":"DPD","BPO":"BPOST","AFH":"AFH"};
def vat_by_country: {"BE":"3","DE":"3","FR":"3","LU":"3"};
def vat_codes: {"0":"0","1":"1","2":"2","3":"3","4":"4","5":"5","6":"6"};
def left($n): if . == null then null else .[0:$n] end;
# jq 1.6 has no trim; without regular expressions (slow in jq 1.6) to be fair to jq.
def trim: if startswith(" ") then .[1:] | trim elif endswith(" ") then .[:-1] | trim else . end;
def fix_postcode($country):
  if . == null then null
  else (ascii_upcase | trim) as $p
  | ($p | split(" ") | join("")) as $c
  | if ($country == "NL" or $country == null) and ($c | length) == 6
    then "\($c[0:4]) \($c[4:6])"
    else $p end
  end;
. as $o
| ($o.delivery.Country // $o.account.Country) as $country
| {
    OrderDebtor: $o.customer.DebtorNumber,
    YourReference: ($o.OrderNumber | tostring),
    Description1: (($o.Description // "Order \($o.OrderNumber)") | left(20)),
    SalesOrderDate: $o.OrderDate,
    DeliveryDate: $o.DeliveryDate,
    CurrencyCode: ($o.Currency // "EUR"),
    PaymentCondition: (payment_conditions[$o.PaymentCondition] // "30"),
    ShippingVia: (shipping_methods[$o.shipping.Code] // "PNL"),
    Reference: ($o.PaymentReference | left(30)),
    OrderDebtorName: ($o.account.Name | left(50)),
    OrderDebtorContactEmail: (($o.contact.Email // $o.account.Email) | if . == null then null else ascii_downcase | trim end),
    DeliveryDebtorName: ($o.account.Name | left(50)),
    DeliveryDebtorAddress1: (($o.delivery.AddressLine1 // $o.account.AddressLine1) | left(100)),
    DeliveryDebtorPostCode: (($o.delivery.Postcode // $o.account.Postcode) | fix_postcode($country)),
    DeliveryDebtorCity: ($o.delivery.City // $o.account.City),
    DeliveryDebtorCountryCode: ($country // "NL"),
    FreeField1: ($o.Remarks | left(60)),
    Lines: [ $o.SalesOrderLines[] | {
      Itemcode: .ItemCode,
      Description: ((.Description // .ItemDescription) | left(60)),
      Quantity: .Quantity,
      Price: .UnitPrice,
      DiscountPercentage: (((.Discount // 0) * 100 * 100 | round) / 100),
      VATCode: (vat_by_country[$country] // vat_codes[.VATCode] // "1"),
      CostCenter: .CostCenter,
      CostUnit: .CostUnit,
      DeliveryDate: (.DeliveryDate // $o.DeliveryDate)
    } ]
  }
| with_entries(select(.value != null))
