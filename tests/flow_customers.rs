//! The customers flow (Exact Globe debtors -> Exact Online accounts) between the two
//! simulators, field by field on the seed's debtors.

mod common;

use common::*;
use exflow::cli::connect::{connectors, state_store};
use exflow::sim::exact_globe::GlobeSimConfig;
use serde_json::Value;

#[tokio::test]
async fn debtors_arrive_as_accounts_with_classification_revenue_account_and_vat_code() {
    let env = env(small_online(), GlobeSimConfig::default(), "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    let r = run(&project, "customers", &conns, &store, false).await;
    assert_eq!(r.total_failed(), 0, "{r}\n{:?}", fails(&r));
    assert!(r.main_counts().created > 0, "{r}");

    let classes = env.online.records("AccountClassifications");
    let class_id = |code: &str| -> Value {
        classes
            .iter()
            .find(|c| text(&c["Code"]) == code)
            .map(|c| c["ID"].clone())
            .unwrap_or_else(|| panic!("classification {code} in Online"))
    };
    let gl = env.online.records("GLAccounts");
    let gl_id = |code: &str| -> Value {
        gl.iter()
            .find(|g| text(&g["Code"]) == code)
            .map(|g| g["ID"].clone())
            .unwrap_or_else(|| panic!("GL account {code}"))
    };
    let accounts = env.online.records("Accounts");
    let mut checked = 0;
    let mut companies = 0;
    for d in env.globe.records("Account") {
        let email = text(&d["EmailAddress"]).to_lowercase();
        if email.is_empty() || text(&d["DebtorNumber"]).is_empty() || d["Blocked"] == true {
            continue;
        }
        let a = accounts
            .iter()
            .find(|a| text(&a["Email"]).to_lowercase() == email)
            .unwrap_or_else(|| panic!("debtor {email} in Online"));
        let country = text(&d["InvoiceCountry"]);
        assert_eq!(text(&a["Name"]), text(&d["AccountName"]), "{email}");
        assert_eq!(text(&a["Code"]), text(&d["DebtorNumber"]), "{email}");
        assert_eq!(text(&a["City"]), text(&d["InvoiceCity"]), "{email}");
        assert_eq!(text(&a["Country"]), country, "{email}");
        assert_eq!(
            text(&a["AddressLine1"]),
            text(&d["InvoiceAddress"]),
            "{email}"
        );
        assert_eq!(text(&a["Phone"]), text(&d["PhoneNumber"]), "{email}");
        assert_eq!(
            text(&a["Remarks"]),
            text(&d["TextFreeField1"]),
            "custom field of {email}"
        );
        assert!(
            !text(&d["TextFreeField1"]).is_empty(),
            "the seed has custom fields"
        );
        let (revenue, vat) = match country.as_str() {
            "BE" => ("8100", "3"),
            "DE" => ("8200", "3"),
            _ => ("8000", "1"),
        };
        assert_eq!(
            a["GLAccountSales"],
            gl_id(revenue),
            "revenue account of {email}"
        );
        assert_eq!(text(&a["SalesVATCode"]), vat, "VAT code of {email}");
        let class = text(&d["ClassificationID"]);
        if !class.is_empty() {
            let online_code = if class == "WEB" {
                "PAR"
            } else {
                class.as_str()
            };
            assert_eq!(
                a["Classification1"],
                class_id(online_code),
                "classification of {email}"
            );
            companies += usize::from(class == "GRO");
        }
        checked += 1;
    }
    assert!(checked >= 10, "the seed has debtors: {checked}");
    assert!(companies > 0, "and company debtors");

    // A rerun touches nothing.
    let r = run(&project, "customers", &conns, &store, false).await;
    assert_eq!(r.main_counts().created + r.main_counts().updated, 0, "{r}");

    // Each debtor's contact person (a company's contact, or the person of a person debtor)
    // becomes a contact of its account.
    let r = run(&project, "customer_contacts", &conns, &store, false).await;
    assert_eq!(r.total_failed(), 0, "{r}\n{:?}", fails(&r));
    let accounts = env.online.records("Accounts");
    let contacts = env.online.records("Contacts");
    let mut with_contact = 0;
    for d in env.globe.records("Account") {
        let email = text(&d["EmailAddress"]).to_lowercase();
        if email.is_empty()
            || text(&d["DebtorNumber"]).is_empty()
            || text(&d["ContactLastName"]).is_empty()
        {
            continue;
        }
        let account = accounts
            .iter()
            .find(|a| text(&a["Email"]).to_lowercase() == email)
            .unwrap_or_else(|| panic!("account {email}"));
        let contact_email = match text(&d["ContactEmail"]) {
            e if e.is_empty() => email.clone(),
            e => e.to_lowercase(),
        };
        let mine: Vec<&Value> = contacts
            .iter()
            .filter(|c| {
                text(&c["Email"]).to_lowercase() == contact_email && c["Account"] == account["ID"]
            })
            .collect();
        assert_eq!(mine.len(), 1, "contact {contact_email} of {email} once");
        let c = mine[0];
        assert_eq!(text(&c["LastName"]), text(&d["ContactLastName"]), "{email}");
        assert_eq!(
            text(&c["FirstName"]),
            text(&d["ContactFirstName"]),
            "{email}"
        );
        with_contact += 1;
    }
    assert!(with_contact >= 10, "{with_contact}");
    let r = run(&project, "customer_contacts", &conns, &store, false).await;
    assert_eq!(r.main_counts().created + r.main_counts().updated, 0, "{r}");
}
