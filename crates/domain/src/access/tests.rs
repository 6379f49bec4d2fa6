use super::*;
use chrono::TimeZone;
use chrono::NaiveDate;
use crate::name::FullName;

type StepCase = (InvitationFacts, Actor, InvitationAction, DateTime<Utc>, Result<Transition, FamilyRefusal>);
type AccessCase<'a> = (&'a str, AccessFacts, Option<Service>, Result<Basis, DenyReason>);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 9, 0, 0).single().expect("time")
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

fn facts(status: InvitationStatus, opens_in: Option<i64>) -> InvitationFacts {
    InvitationFacts {
        status,
        expires_at: t0() + Duration::days(7),
        opens_at: opens_in.map(|h| t0() + hours(h)),
    }
}

#[test]
fn invitation_state_machine_table() {
    use Actor::*;
    use FamilyRefusal as R;
    use InvitationAction::*;
    use InvitationStatus as S;
    let policy = FamilyPolicy::default();
    let now = t0() + hours(1);
    let late = t0() + Duration::days(8);
    let cases: Vec<StepCase> = vec![
        (facts(S::Pending, None), Invitee, Accept, now, Ok(Transition::Accepted { opens_at: now + hours(24) })),
        (facts(S::Pending, None), Invitee, Decline, now, Ok(Transition::Declined)),
        (facts(S::Pending, None), Inviter, Revoke, now, Ok(Transition::Revoked)),
        // Accepting someone else's invitation; the inviter accepting their own.
        (facts(S::Pending, None), Stranger, Accept, now, Err(R::NotAddressedToYou)),
        (facts(S::Pending, None), Inviter, Accept, now, Err(R::NotAddressedToYou)),
        (facts(S::Pending, None), Stranger, Decline, now, Err(R::NotAddressedToYou)),
        (facts(S::Pending, None), Invitee, Revoke, now, Err(R::NotYourInvitation)),
        (facts(S::Pending, None), Stranger, Revoke, now, Err(R::NotYourInvitation)),
        // Expiry: noticed by whoever acts first (stored, then refused).
        (facts(S::Pending, None), Invitee, Accept, late, Ok(Transition::Expired)),
        (facts(S::Pending, None), Inviter, Revoke, late, Ok(Transition::Expired)),
        (facts(S::Expired, None), Invitee, Accept, late, Err(R::Expired)),
        (facts(S::Expired, None), Inviter, Revoke, late, Err(R::Expired)),
        // Answered already.
        (facts(S::Accepted, Some(25)), Invitee, Accept, now, Err(R::AlreadyAnswered)),
        (facts(S::Accepted, Some(25)), Invitee, Decline, now, Err(R::AlreadyAnswered)),
        (facts(S::Declined, None), Invitee, Accept, now, Err(R::AlreadyAnswered)),
        (facts(S::Declined, None), Inviter, Revoke, now, Err(R::AlreadyAnswered)),
        // Accepted (waiting or open) is revoked at once; accepted never expires.
        (facts(S::Accepted, Some(25)), Inviter, Revoke, now, Ok(Transition::Revoked)),
        (facts(S::Accepted, Some(25)), Inviter, Revoke, late, Ok(Transition::Revoked)),
        (facts(S::Revoked, None), Inviter, Revoke, now, Err(R::Revoked)),
        (facts(S::Revoked, None), Invitee, Accept, now, Err(R::Revoked)),
    ];
    for (i, (f, actor, action, at, expected)) in cases.into_iter().enumerate() {
        assert_eq!(transition(&f, actor, action, at, &policy), expected, "case {i}: {f:?} {actor:?} {action:?}");
    }
}

#[test]
fn invitation_states_follow_the_clock() {
    use InvitationStatus as S;
    let cases = [
        (facts(S::Pending, None), t0(), "pending"),
        (facts(S::Pending, None), t0() + Duration::days(7) - Duration::milliseconds(1), "pending"),
        (facts(S::Pending, None), t0() + Duration::days(7), "expired"),
        (facts(S::Accepted, Some(24)), t0() + hours(23), "waiting"),
        (facts(S::Accepted, Some(24)), t0() + hours(24), "open"),
        (facts(S::Accepted, None), t0(), "revoked"),
        (facts(S::Revoked, Some(24)), t0() + hours(48), "revoked"),
        (facts(S::Declined, None), t0(), "declined"),
        (facts(S::Expired, None), t0(), "expired"),
    ];
    for (f, now, expected) in cases {
        assert_eq!(invitation_state(&f, now).code(), expected, "{f:?} at {now}");
    }
}

#[test]
fn who_may_invite() {
    use FamilyRefusal as R;
    use RelationshipStatus as L;
    let policy = FamilyPolicy::default();
    let ok = InviterFacts { is_trusted_account: false, link: Some(L::Confirmed), invites_self: false, already_invited: false };
    let cases = [
        (ok, Ok(t0() + Duration::days(7))),
        (InviterFacts { is_trusted_account: true, ..ok }, Err(R::TrustedCannotInvite)),
        (InviterFacts { link: Some(L::Proposed), ..ok }, Err(R::NotConfirmedParent)),
        (InviterFacts { link: Some(L::Declined), ..ok }, Err(R::NotConfirmedParent)),
        (InviterFacts { link: Some(L::Revoked), ..ok }, Err(R::NotConfirmedParent)),
        (InviterFacts { link: None, ..ok }, Err(R::NotConfirmedParent)),
        (InviterFacts { invites_self: true, ..ok }, Err(R::SelfInvitation)),
        (InviterFacts { already_invited: true, ..ok }, Err(R::AlreadyInvited)),
    ];
    for (inviter, expected) in cases {
        assert_eq!(plan_invitation(&inviter, t0(), &policy), expected, "{inviter:?}");
    }
    // A trusted person is refused before the form is even read.
    assert_eq!(may_invite(true, Some(L::Confirmed)), Err(R::TrustedCannotInvite));
    assert_eq!(may_invite(false, Some(L::Confirmed)), Ok(()));
}

#[test]
fn invitation_forms_as_parents_fill_them() {
    use FamilyRefusal as R;
    let diary = ServiceSet::of([Service::Diary]);
    let ok = parse_invitation(" Лебедев ", "207-307-407 31", "", diary).expect("valid");
    assert_eq!(ok.surname, "Лебедев");
    assert_eq!(ok.contact.kind(), "snils");
    assert_eq!(ok.contact.value(), "20730740731");
    assert_eq!(ok.contact.hint(), "***-***-407 31");
    let phone = parse_invitation("Лебедев", "", "8 (912) 345-67-89", diary).expect("valid");
    assert_eq!(phone.contact.value(), "+79123456789");
    assert_eq!(phone.contact.hint(), "+7 *** ***-**-89");
    let cases = [
        ("", "207-307-407 31", "", diary, R::SurnameMissing),
        ("Лебедев", "", "", diary, R::ContactMissing),
        ("Лебедев", "207-307-407 32", "", diary, R::BadSnils),
        ("Лебедев", "", "+7 495 123-45-67", diary, R::BadPhone),
        ("Лебедев", "207-307-407 31", "", ServiceSet::NONE, R::NoServices),
    ];
    for (surname, snils, phone, services, expected) in cases {
        assert_eq!(parse_invitation(surname, snils, phone, services).map(|r| r.surname), Err(expected), "{surname:?} {snils:?} {phone:?}");
    }
    assert!(format!("{ok:?}").contains("***-***-407 31"));
    assert!(!format!("{ok:?}").contains("Лебедев"), "Debug hides the surname");
    assert!(surname_matches("ЛЕБЕДЕВ ", "Лебедев"));
    assert!(surname_matches("Федоров", "ФЁДОРОВ"));
    assert!(!surname_matches("Лебедева", "Лебедев"));
    assert!(!surname_matches("", ""));
}

#[test]
fn services_round_trip_their_stored_form() {
    let both = ServiceSet::parse_list("attendance_meals,diary,unknown");
    assert_eq!(both, ServiceSet::ALL);
    assert_eq!(both.to_list(), "diary,attendance_meals");
    assert_eq!(ServiceSet::parse_list("").to_list(), "");
    assert!(ServiceSet::parse_list("diary").contains(Service::Diary));
    assert!(!ServiceSet::parse_list("diary").contains(Service::AttendanceMeals));
    assert_eq!(serde_json::to_string(&both).ok().as_deref(), Some(r#"["diary","attendance_meals"]"#));
}

#[test]
fn relationship_answers_table() {
    use Answer::*;
    use FamilyRefusal as R;
    use RelationshipStatus as L;
    let cases = [
        (L::Proposed, true, Accept, Ok(L::Confirmed)),
        (L::Proposed, true, Decline, Ok(L::Declined)),
        (L::Proposed, false, Accept, Err(R::NotAddressedToYou)),
        (L::Confirmed, false, Decline, Err(R::NotAddressedToYou)),
        (L::Confirmed, true, Accept, Err(R::AlreadyAnswered)),
        (L::Declined, true, Accept, Err(R::AlreadyAnswered)),
        (L::Revoked, true, Accept, Err(R::Revoked)),
    ];
    for (status, addressed, answer, expected) in cases {
        assert_eq!(answer_relationship(status, addressed, answer), expected, "{status:?} {addressed} {answer:?}");
    }
}

#[test]
fn one_person_across_schools() {
    let person = |s: &str, g: &str, p: Option<&str>, b: Option<(i32, u32, u32)>, snils: Option<&str>| PersonFacts {
        name: FullName::new(s, g, p).ok(),
        birth_date: b.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        snils: snils.map(str::to_string),
    };
    let maria = person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160"));
    let cases = [
        (person("ИВАНОВА", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160")), true),
        (person("Иванова", "Мария", Some("Петровна"), None, Some("20130140160")), true),
        (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 13)), Some("20130140160")), false),
        (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20230240272")), false),
        (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), None), false),
        (person("Иванов", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160")), false),
        (person("Иванова", "Мария", None, Some((1985, 4, 12)), Some("20130140160")), false),
    ];
    for (other, expected) in cases {
        assert_eq!(same_person(&maria, &other), expected, "{other:?}");
    }
}

fn grant(status: InvitationStatus, opens_in: Option<i64>, services: ServiceSet, parent_ok: bool) -> GrantFact {
    GrantFact { invitation: facts(status, opens_in), services, parent_link_confirmed: parent_ok }
}

#[test]
fn access_decision_table() {
    use InvitationStatus as S;
    use RelationshipStatus as L;
    let diary = ServiceSet::of([Service::Diary]);
    let meals = ServiceSet::of([Service::AttendanceMeals]);
    let nobody = AccessFacts { same_account: false, target_is_pupil: true, parent_links: vec![], grants: vec![] };
    let parent = |status| ParentLinkFact { status, since: Some(t0()) };
    let grants = |grants: Vec<GrantFact>| AccessFacts { grants, ..nobody.clone() };
    let now = t0() + hours(30);
    let cases: Vec<AccessCase> = vec![
        ("a pupil sees themselves", AccessFacts { same_account: true, ..nobody.clone() }, Some(Service::Diary), Ok(Basis::SelfPupil)),
        ("a pupil asking for another pupil", nobody.clone(), Some(Service::Diary), Err(DenyReason::NoRelationship)),
        ("not a pupil at all", AccessFacts { target_is_pupil: false, same_account: true, ..nobody.clone() }, None, Err(DenyReason::NotAPupil)),
        ("confirmed parent", AccessFacts { parent_links: vec![parent(L::Confirmed)], ..nobody.clone() }, Some(Service::AttendanceMeals), Ok(Basis::Parent)),
        ("proposed link only", AccessFacts { parent_links: vec![parent(L::Proposed)], ..nobody.clone() }, None, Err(DenyReason::NotConfirmed)),
        ("declined link", AccessFacts { parent_links: vec![parent(L::Declined)], ..nobody.clone() }, None, Err(DenyReason::Revoked)),
        ("trusted, open", grants(vec![grant(S::Accepted, Some(24), diary, true)]), Some(Service::Diary), Ok(Basis::Trusted)),
        ("trusted, open, any service", grants(vec![grant(S::Accepted, Some(24), diary, true)]), None, Ok(Basis::Trusted)),
        ("trusted, other service", grants(vec![grant(S::Accepted, Some(24), diary, true)]), Some(Service::AttendanceMeals), Err(DenyReason::ServiceNotGranted)),
        ("trusted, two grants unite", grants(vec![grant(S::Accepted, Some(24), diary, true), grant(S::Accepted, Some(2), meals, true)]), Some(Service::AttendanceMeals), Ok(Basis::Trusted)),
        ("access before the delay", grants(vec![grant(S::Accepted, Some(48), diary, true)]), Some(Service::Diary), Err(DenyReason::NotYetOpen { opens_at: t0() + hours(48) })),
        ("access after revocation", grants(vec![grant(S::Revoked, Some(24), diary, true)]), Some(Service::Diary), Err(DenyReason::Revoked)),
        ("pending invitation", grants(vec![grant(S::Pending, None, diary, true)]), Some(Service::Diary), Err(DenyReason::NotAccepted)),
        ("declined invitation", grants(vec![grant(S::Declined, None, diary, true)]), Some(Service::Diary), Err(DenyReason::Declined)),
        ("the parent's link ended", grants(vec![grant(S::Accepted, Some(24), diary, false)]), Some(Service::Diary), Err(DenyReason::ParentLinkEnded)),
        ("revoked grant beside a waiting one", grants(vec![grant(S::Revoked, Some(1), diary, true), grant(S::Accepted, Some(40), diary, true)]), Some(Service::Diary), Err(DenyReason::NotYetOpen { opens_at: t0() + hours(40) })),
    ];
    for (name, f, service, expected) in cases {
        let got = match decide_access(&f, service, now) {
            AccessDecision::Allow(a) => Ok(a.basis),
            AccessDecision::Deny(r) => Err(r),
        };
        assert_eq!(got, expected, "{name}");
    }
    // An expired invitation.
    let pending = grants(vec![grant(S::Pending, None, diary, true)]);
    assert_eq!(decide_access(&pending, None, t0() + Duration::days(8)), AccessDecision::Deny(DenyReason::Expired));
    // Services of two open grants unite; since is the earliest opening.
    let united = grants(vec![grant(S::Accepted, Some(24), diary, true), grant(S::Accepted, Some(2), meals, true)]);
    match decide_access(&united, None, now) {
        AccessDecision::Allow(a) => {
            assert_eq!(a.services, ServiceSet::ALL);
            assert_eq!(a.since, Some(t0() + hours(2)));
        }
        other => panic!("{other:?}"),
    }
}

