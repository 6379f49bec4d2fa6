//! A person's kids as ESIA serves them (`kid_*` scopes): the collection's
//! shape, the fields each scope lets through, the refusals, the fault that
//! refuses them and what the consent page lists.

use esia_proto::EsiaRestError;
use mock_idp::Fault;
use serde_json::{json, Value};

use crate::kit::*;

const KID_SCOPE: &str = "openid fullname kid_fullname kid_birthdate kid_snils";

async fn get(idp: &mock_idp::MockIdp, token: Option<&str>, path: &str) -> reqwest::Response {
    let request = http().get(format!("{}/rs/prns/{path}", idp.base_url()));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("REST")
}

async fn refusal(idp: &mock_idp::MockIdp, token: Option<&str>, path: &str) -> (u16, String) {
    let response = get(idp, token, path).await;
    let status = response.status().as_u16();
    let body: EsiaRestError = response.json().await.expect("ESIA REST error");
    (status, body.code)
}

#[tokio::test]
async fn kids_come_in_esia_s_collection_shape_with_the_granted_fields() {
    let idp = mock().await;
    let tokens = esia_tokens(&idp, "ivanova", KID_SCOPE).await;
    let response = get(
        &idp,
        Some(&tokens.access_token),
        "1000001/kids?embed=(elements)",
    )
    .await;
    assert_eq!(response.status(), 200);
    let kids: Value = response.json().await.expect("json");
    assert_eq!(kids["stateFacts"], json!(["hasSize"]));
    assert_eq!(kids["size"], 3);
    let elements = kids["elements"].as_array().expect("elements");
    assert_eq!(elements.len(), 3);
    let first = &elements[0];
    assert_eq!(first["id"], "1000001-1");
    assert_eq!(first["stateFacts"], json!(["Identifiable"]));
    assert_eq!(first["firstName"], "Илья");
    assert_eq!(first["lastName"], "Иванов");
    assert_eq!(first["middleName"], "Сергеевич");
    assert_eq!(first["birthDate"], "14.05.2013");
    assert_eq!(first["snils"], "221-321-421 90");
    assert!(first.get("gender").is_none(), "kid_gender was not granted");
    let ids: std::collections::HashSet<&str> =
        elements.iter().filter_map(|k| k["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "one id per kid");

    // Without embed: links to the elements, same shape.
    let links: Value = get(&idp, Some(&tokens.access_token), "1000001/kids")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(links["stateFacts"], json!(["hasSize"]));
    assert_eq!(links["size"], 3);
    assert!(links["elements"][0]
        .as_str()
        .is_some_and(|u| u.ends_with("/rs/prns/1000001/kids/1")));

    // A person without kids: an empty collection, not an error.
    let tokens = esia_tokens(&idp, "fedorov", KID_SCOPE).await;
    let none: Value = get(
        &idp,
        Some(&tokens.access_token),
        "1000002/kids?embed=(elements)",
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(
        none,
        json!({"stateFacts": ["hasSize"], "size": 0, "elements": []})
    );
}

#[tokio::test]
async fn kids_need_a_kid_scope_and_a_token_of_that_person() {
    let idp = mock().await;
    let without = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    assert_eq!(
        refusal(
            &idp,
            Some(&without.access_token),
            "1000001/kids?embed=(elements)"
        )
        .await,
        (403, "ESIA-005029".into())
    );
    let with = esia_tokens(&idp, "ivanova", KID_SCOPE).await;
    assert_eq!(
        refusal(
            &idp,
            Some(&with.access_token),
            "1000012/kids?embed=(elements)"
        )
        .await,
        (403, "ESIA-005029".into()),
        "another person's kids"
    );
    assert_eq!(
        refusal(&idp, None, "1000001/kids?embed=(elements)").await,
        (401, "ESIA-005011".into())
    );
    // The access token names the kid scopes it grants, bound to the OID.
    let (_, claims) = decode(&with.access_token);
    let scope = claims["scope"].as_str().expect("scope");
    for kid_scope in ["kid_fullname", "kid_birthdate", "kid_snils"] {
        assert!(
            scope.contains(&format!("{kid_scope}?oid=1000001")),
            "{scope}"
        );
    }
}

#[tokio::test]
async fn the_kids_refused_fault_refuses_kids_and_nothing_else() {
    let idp = mock().await;
    let tokens = esia_tokens(&idp, "ivanova", KID_SCOPE).await;
    idp.set_fault(Fault::KidsRefused);
    assert_eq!(
        refusal(
            &idp,
            Some(&tokens.access_token),
            "1000001/kids?embed=(elements)"
        )
        .await,
        (403, "ESIA-005029".into())
    );
    let person: Value = get(
        &idp,
        Some(&tokens.access_token),
        "1000001?embed=(kids.elements)",
    )
    .await
    .json()
    .await
    .expect("person");
    assert_eq!(person["lastName"], "Иванова");
    assert!(person.get("kids").is_none(), "{person}");
    idp.clear_faults();
    let person: Value = get(
        &idp,
        Some(&tokens.access_token),
        "1000001?embed=(kids.elements)",
    )
    .await
    .json()
    .await
    .expect("person");
    assert_eq!(person["kids"]["size"], 3, "{person}");
    assert_eq!(person["kids"]["stateFacts"], json!(["hasSize"]));
}

#[tokio::test]
async fn the_consent_page_lists_each_kid_scope() {
    let idp = mock().await;
    let client = http();
    let state = uuid::Uuid::new_v4().to_string();
    let scope = "openid fullname snils kid_fullname kid_birthdate kid_gender kid_snils";
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params_for(&state, scope, Signer::Rsa),
    );
    let login_page = client
        .get(&url)
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("html");
    let pending = hidden(&login_page, "pending");
    let consent = client
        .post(format!("{}/aas/login", idp.base_url()))
        .form(&[
            ("pending", pending.as_str()),
            ("login", "ivanova"),
            ("password", "demo"),
        ])
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("consent page");
    for line in [
        "Фамилия, имя, отчество детей",
        "Даты рождения детей",
        "Пол детей",
        "СНИЛС детей",
    ] {
        assert!(consent.contains(&format!("<li>{line}</li>")), "{consent}");
    }
}
