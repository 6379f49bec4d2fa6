//! authorize → login → consent → token → person data, over plain HTTP.

use serde_json::Value;

use crate::kit::*;

#[tokio::test]
async fn the_whole_esia_flow_returns_the_person_with_contacts_and_kids() {
    let idp = mock().await;
    let code = esia_code(&idp, "novikova").await;
    let response = exchange(&idp, &token_form(&code)).await;
    assert_eq!(response.status(), 200);
    let tokens: esia_proto::EsiaTokenResponse = response.json().await.expect("token JSON");
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 3600);

    let id_token = tokens.id_token.expect("id_token");
    assert!(
        esia_verifies(&id_token, &idp.esia_certificates_pem()),
        "signed by the published certificate's key"
    );
    assert!(!verifies(&id_token, &jwks(&idp).await), "not a JWKS key");
    let (header, claims) = decode(&id_token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["sub"], 1000012, "a JSON integer");
    assert_eq!(claims["aud"], "ESIA-LINK-DEMO");
    assert_eq!(claims["iss"], Value::String(idp.issuer()));
    assert_eq!(claims["amr"], "PWD");
    assert_eq!(claims["urn:esia:sbj"]["urn:esia:sbj:typ"], "P");
    assert_eq!(claims["urn:esia:sbj"]["urn:esia:sbj:oid"], 1000012);
    assert!(
        claims["urn:esia:sbj"].get("urn:esia:sbj:is_tru").is_none(),
        "standard, not verified"
    );
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 3600);

    let person: esia_proto::EsiaPerson = http()
        .get(format!(
            "{}/rs/prns/1000012?embed=(contacts.elements,documents.elements,kids.elements)",
            idp.base_url()
        ))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("person")
        .json()
        .await
        .expect("person JSON");
    assert_eq!(person.last_name.as_deref(), Some("Новикова"));
    assert_eq!(person.first_name.as_deref(), Some("Ольга"));
    assert_eq!(person.middle_name.as_deref(), Some("Игоревна"));
    assert_eq!(person.birth_date.as_deref(), Some("08.08.1986"));
    assert_eq!(person.snils.as_deref(), Some("211-311-411 75"));
    assert!(!person.trusted);
    let kids: Vec<_> = person.kids.as_ref().expect("kids").items().collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1].first_name, "Софья");
    assert_eq!(kids[1].snils.as_deref(), Some("213-313-413 99"));
    let contacts: Vec<_> = person
        .contacts
        .as_ref()
        .expect("contacts")
        .items()
        .collect();
    assert_eq!(contacts.len(), 2);
    assert_eq!(
        (contacts[0].kind.as_str(), contacts[0].vrf_stu.as_deref()),
        ("EML", Some("VERIFIED"))
    );
    assert_eq!(contacts[1].vrf_stu.as_deref(), Some("NOT_VERIFIED"));
    let docs: Vec<_> = person.documents.as_ref().expect("docs").items().collect();
    assert_eq!(docs[0].vrf_stu.as_deref(), Some("VERIFIED"));
    assert_eq!(person.r_id_doc, docs[0].id);
    let kinds: Vec<_> = docs.iter().filter_map(|d| d.kind.as_deref()).collect();
    assert_eq!(kinds, ["RF_PASSPORT", "RF_DRIVING_LICENSE", "MDCL_PLCY"]);

    // Sub-collections: links without embed, objects with it.
    let links: Value = http()
        .get(format!("{}/rs/prns/1000012/kids", idp.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("kids")
        .json()
        .await
        .expect("json");
    assert_eq!(links["size"], 2);
    assert!(links["elements"][0]
        .as_str()
        .is_some_and(|s| s.contains("/rs/prns/1000012/kids/1")));
    let objects: Value = http()
        .get(format!(
            "{}/rs/prns/1000012/ctts?embed=(elements)",
            idp.base_url()
        ))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("ctts")
        .json()
        .await
        .expect("json");
    assert_eq!(objects["elements"][0]["type"], "EML");

    // Someone else's OID with this token is refused.
    let other = http()
        .get(format!("{}/rs/prns/1000001", idp.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("other");
    assert_eq!(other.status(), 403);
    let body: esia_proto::EsiaRestError = other.json().await.expect("ESIA REST error");
    assert_eq!(body.code, "ESIA-005029");
}

#[tokio::test]
async fn verified_persons_carry_is_tru_and_simplified_ones_unverified_documents() {
    let idp = mock().await;
    let code = esia_code(&idp, "smirnov").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    let (_, claims) = decode(&tokens.id_token.expect("id_token"));
    assert_eq!(claims["urn:esia:sbj"]["urn:esia:sbj:is_tru"], true);

    let code = esia_code(&idp, "volkov").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    let person: esia_proto::EsiaPerson = http()
        .get(format!(
            "{}/rs/prns/1000010?embed=(documents.elements)",
            idp.base_url()
        ))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("person")
        .json()
        .await
        .expect("json");
    assert_eq!(
        person
            .documents
            .expect("docs")
            .items()
            .next()
            .and_then(|d| d.vrf_stu.clone())
            .as_deref(),
        Some("NOT_VERIFIED")
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_page_again() {
    let idp = mock().await;
    let state = uuid::Uuid::new_v4().to_string();
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&state),
    );
    let client = http();
    let html = client
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let pending = hidden(&html, "pending");
    let again = client
        .post(format!("{}/aas/login", idp.base_url()))
        .form(&[
            ("pending", pending.as_str()),
            ("login", "ivanova"),
            ("password", "wrong"),
        ])
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert!(again.contains("Неверный логин или пароль"));
    assert!(again.contains("name=\"password\""));
}
