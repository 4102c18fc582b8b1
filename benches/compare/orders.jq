# The main map of pipelines/orders.yaml, written in jq, for the speed comparison in the README.
# Tables are inlined as objects; the rhai postcode helper as a jq function.
def payment_conditions: {"00":"00","07":"07","14":"14","21":"21","30":"30","60":"60","IN":"00"};
def shipping_methods: {"POSTNL":"POST","DHL":"DHL","DPD":"DPD","UPS":"UPS","PICKUP":"AFH"};
def vat_by_country: {"NL":"2","BE":"5","DE":"5","FR":"5","LU":"5"};
def vat_codes: {"0":"0","1":"1","2":"2","3":"3","5":"5"};
def left($n): if . == null then null else .[0:$n] end;
def fix_postcode($country):
  if . == null then null
  else (ascii_upcase | gsub("^\\s+|\\s+$"; "")) as $p
  | if ($country == "NL" or $country == null) and (($p | gsub(" "; "")) | length) == 6
    then ($p | gsub(" "; "")) as $c | "\($c[0:4]) \($c[4:6])"
    else $p end
  end;
. as $o
| ($o.delivery.Country // $o.account.Country) as $country
| {
    OrderDebtor: $o.customer.DebtorNumber,
    YourReference: ($o.OrderNumber | tostring),
    Description1: (($o.Description // "Exact Online order \($o.OrderNumber)") | left(60)),
    SalesOrderDate: $o.OrderDate,
    DeliveryDate: $o.DeliveryDate,
    CurrencyCode: ($o.Currency // "EUR"),
    PaymentCondition: (payment_conditions[$o.PaymentCondition] // "30"),
    ShippingVia: (shipping_methods[$o.shipping.Code] // "POST"),
    Reference: ($o.PaymentReference | left(30)),
    OrderDebtorName: ($o.account.Name | left(50)),
    OrderDebtorContactEmail: (($o.contact.Email // $o.account.Email) | ascii_downcase | gsub("^\\s+|\\s+$"; "")),
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
      VATCode: (vat_by_country[$country] // vat_codes[.VATCode] // "2"),
      CostCenter: .CostCenter,
      CostUnit: .CostUnit,
      DeliveryDate: (.DeliveryDate // $o.DeliveryDate)
    } ]
  }
| with_entries(select(.value != null))
