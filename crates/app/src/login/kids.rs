//! Children confirmed from State Services data (#10). When a parent logs in
//! through ESIA with the `kid_*` scopes, ESIA lists their children; each
//! child whose SNILS and full name match a pupil whose school listed this
//! parent confirms that link (basis `esia_kids`, held by the account that
//! logged in, audited "confirmed by State Services data"). A child who
//! matches no pupil, or a pupil whose school listed someone else, is left
//! alone: the parent is told to ask the school.
//!
//! Switchable per region (`esia_kids_confirmation`, on by default). A
//! failure here never fails the login that triggered it.

use std::collections::BTreeSet;

use serde_json::json;
use uuid::Uuid;

use crate::access_cache::Invalidation;
use crate::family::NoticeKind;
use crate::{AppError, Logins};
use domain::access::{same_person, PersonFacts};
use domain::link::names_match;
use domain::name::{compare, FullName};
use domain::snils::Snils;
use federation::FederatedKid;
use store::{KidLink, NewNotification, PersonBrief};

/// Who confirms: the system, on State Services data.
const ACTOR: &str = "system:esia_kids";

/// A link confirmed now.
#[derive(Debug, Clone)]
pub struct ConfirmedKid {
    pub relationship_id: Uuid,
    pub pupil_id: Uuid,
    /// `И***** И. С.`
    pub masked_name: String,
}

/// What the confirmation did with the children ESIA listed.
#[derive(Debug, Clone, Default)]
pub struct KidsResult {
    /// Links confirmed now from State Services data.
    pub confirmed: Vec<ConfirmedKid>,
    /// Links of these children that this parent already holds (or that
    /// were answered meanwhile): nothing to do.
    pub unchanged: Vec<Uuid>,
    /// Children no school link can be confirmed for (no pupil with that
    /// SNILS and name, a school that listed someone else, a link declined
    /// or revoked, or too little data): masked names, "ask the school".
    pub ask_the_school: Vec<String>,
}

/// A child from ESIA with what the match needs, if it is all there.
struct Kid {
    masked_name: String,
    matchable: Option<(FullName, Snils)>,
    birth_date: Option<chrono::NaiveDate>,
}

impl Kid {
    fn from_federated(kid: &FederatedKid) -> Kid {
        let name = FullName::new(
            kid.surname.as_deref().unwrap_or(""),
            kid.given_name.as_deref().unwrap_or(""),
            kid.patronymic.as_deref(),
        )
        .ok();
        let snils = kid.snils.as_deref().and_then(|s| Snils::parse(s).ok());
        Kid {
            masked_name: name
                .as_ref()
                .map(FullName::masked)
                .unwrap_or_else(|| "***".into()),
            matchable: name.zip(snils),
            birth_date: kid.birth_date,
        }
    }
}

fn facts(p: &PersonBrief) -> PersonFacts {
    PersonFacts {
        name: FullName::new(&p.surname, &p.given_name, p.patronymic.as_deref()).ok(),
        birth_date: p.birth_date,
        snils: p.snils.clone(),
    }
}

impl Logins<'_> {
    /// Whether children are confirmed from State Services data for
    /// accounts of `region` (unknown region: no).
    pub fn kids_confirmation_enabled(&self, region: Option<i64>) -> bool {
        region.is_some_and(|code| {
            self.config()
                .regions
                .iter()
                .any(|r| i64::from(r.code) == code && r.esia_kids_confirmation)
        })
    }

    /// Confirms the school links of `account_id` (a parent who just logged
    /// in through ESIA) to the children ESIA listed; see the module docs.
    pub async fn confirm_kids_from_esia(
        &self,
        account_id: Uuid,
        kids: &[FederatedKid],
    ) -> Result<KidsResult, AppError> {
        let kids: Vec<Kid> = kids.iter().map(Kid::from_federated).collect();
        let snils: Vec<String> = kids
            .iter()
            .filter_map(|k| k.matchable.as_ref().map(|(_, s)| s.digits().to_string()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let links = self.store().kid_links(account_id, &snils).await?;
        let allow_missing_patronymic = self.config().policy.allow_missing_patronymic;
        let now = self.now();
        let mut result = KidsResult::default();
        let mut decided = BTreeSet::new();
        for kid in &kids {
            let Some((name, snils)) = &kid.matchable else {
                result.ask_the_school.push(kid.masked_name.clone());
                continue;
            };
            let meant: Vec<&KidLink> = links
                .iter()
                .filter(|l| {
                    l.pupil.snils.as_deref() == Some(snils.digits())
                        && pupil_is(l, name, kid.birth_date, allow_missing_patronymic)
                        && concerns(l, account_id)
                })
                .collect();
            let mut settled = false;
            for link in meant {
                if !decided.insert(link.relationship_id) {
                    settled = true;
                    continue;
                }
                match link.status.as_str() {
                    "confirmed" if link.holder_id == Some(account_id) => {
                        result.unchanged.push(link.relationship_id);
                        settled = true;
                    }
                    "proposed" => {
                        let told = notices(link, now);
                        let changed = self
                            .store()
                            .confirm_link_by_esia_kids(
                                link.relationship_id,
                                account_id,
                                now,
                                ACTOR,
                                &told,
                            )
                            .await?;
                        if changed {
                            self.access_changed(&[
                                Invalidation::Pupil(link.pupil.id),
                                Invalidation::Viewer(account_id),
                            ])
                            .await;
                            result.confirmed.push(ConfirmedKid {
                                relationship_id: link.relationship_id,
                                pupil_id: link.pupil.id,
                                masked_name: kid.masked_name.clone(),
                            });
                        } else {
                            result.unchanged.push(link.relationship_id);
                        }
                        settled = true;
                    }
                    // Declined, revoked or held by another account: the
                    // school and the parent sort that out, not the login.
                    _ => {}
                }
            }
            if !settled {
                result.ask_the_school.push(kid.masked_name.clone());
            }
        }
        Ok(result)
    }

    /// The login's call: confirms when the account's region has it switched
    /// on and ESIA listed children; logs the counts (no names) and never
    /// fails the login.
    pub(crate) async fn confirm_kids_after_login(
        &self,
        account_id: Uuid,
        region: Option<i64>,
        kids: &[FederatedKid],
    ) {
        if kids.is_empty() || !self.kids_confirmation_enabled(region) {
            return;
        }
        match self.confirm_kids_from_esia(account_id, kids).await {
            Ok(result) => tracing::info!(
                confirmed = result.confirmed.len(),
                unchanged = result.unchanged.len(),
                ask_the_school = result.ask_the_school.len(),
                "children checked against State Services data"
            ),
            Err(error) => tracing::warn!(
                code = error.code(),
                "children could not be confirmed from State Services data; the login goes on"
            ),
        }
    }
}

/// The pupil is the child: the full name matches and, when both sides have
/// one, so does the birth date.
fn pupil_is(
    link: &KidLink,
    name: &FullName,
    birth_date: Option<chrono::NaiveDate>,
    allow_missing_patronymic: bool,
) -> bool {
    let Some(pupil) = facts(&link.pupil).name else {
        return false;
    };
    let births_agree = match (birth_date, link.pupil.birth_date) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    births_agree && names_match(&compare(name, &pupil), allow_missing_patronymic)
}

/// The school listed this account as the parent (or a persona of the same
/// person: same SNILS, name and birth date), or this account holds it.
fn concerns(link: &KidLink, account_id: Uuid) -> bool {
    link.pupil.id != account_id
        && (link.parent.id == account_id
            || link.holder_id == Some(account_id)
            || same_person(&facts(&link.parent), &facts(&link.viewer)))
}

/// The parent and the pupil are told, as when the parent accepts.
fn notices(link: &KidLink, at: chrono::DateTime<chrono::Utc>) -> Vec<NewNotification> {
    let kind = NoticeKind::RelationshipConfirmed.code().to_string();
    let subject = link.relationship_id.to_string();
    vec![
        NewNotification {
            account_id: link.viewer.id,
            kind: kind.clone(),
            subject_id: subject.clone(),
            params: json!({
                "side": "parent",
                "pupil": link.pupil.display_name(),
                "school": link.pupil.school_name,
                "basis": "esia_kids",
            }),
            created_at: at,
        },
        NewNotification {
            account_id: link.pupil.id,
            kind,
            subject_id: subject,
            params: json!({
                "side": "pupil",
                "parent": link.viewer.display_name(),
                "school": link.pupil.school_name,
                "basis": "esia_kids",
            }),
            created_at: at,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(id: Uuid, surname: &str, given: &str, patronymic: &str, snils: &str) -> PersonBrief {
        PersonBrief {
            id,
            role: "pupil".into(),
            surname: surname.into(),
            given_name: given.into(),
            patronymic: Some(patronymic.into()),
            birth_date: chrono::NaiveDate::from_ymd_opt(2013, 5, 14),
            snils: Some(snils.into()),
            school_id: None,
            school_name: None,
            class_name: None,
        }
    }

    fn link(parent: PersonBrief, viewer: PersonBrief) -> KidLink {
        KidLink {
            relationship_id: Uuid::new_v4(),
            status: "proposed".into(),
            holder_id: None,
            viewer,
            parent,
            pupil: brief(Uuid::new_v4(), "Иванов", "Илья", "Сергеевич", "22132142190"),
        }
    }

    #[test]
    fn the_pupil_must_carry_the_kid_s_name_and_birth_date() {
        let me = brief(
            Uuid::new_v4(),
            "Иванова",
            "Мария",
            "Петровна",
            "20130140160",
        );
        let l = link(me.clone(), me);
        let name = |s: &str| FullName::parse(s).expect("name");
        let born = chrono::NaiveDate::from_ymd_opt(2013, 5, 14);
        let cases = [
            ("Иванов Илья Сергеевич", born, true),
            ("ИВАНОВ Илья Сергеевич", born, true),
            ("Иванов Илья Сергеевич", None, true),
            ("Иванов Илья", born, false),
            ("Иванов Иван Сергеевич", born, false),
            (
                "Иванов Илья Сергеевич",
                chrono::NaiveDate::from_ymd_opt(2013, 5, 15),
                false,
            ),
        ];
        for (kid, birth, expected) in cases {
            assert_eq!(pupil_is(&l, &name(kid), birth, false), expected, "{kid}");
        }
        assert!(pupil_is(&l, &name("Иванов Илья"), born, true));
    }

    #[test]
    fn a_link_concerns_the_listed_parent_or_the_same_person_only() {
        let me = brief(
            Uuid::new_v4(),
            "Иванова",
            "Мария",
            "Петровна",
            "20130140160",
        );
        let persona = brief(
            Uuid::new_v4(),
            "Иванова",
            "Мария",
            "Петровна",
            "20130140160",
        );
        let namesake = brief(
            Uuid::new_v4(),
            "Иванова",
            "Мария",
            "Ивановна",
            "20130140160",
        );
        let stranger = brief(Uuid::new_v4(), "Фёдоров", "Пётр", "Ильич", "20230240272");
        assert!(concerns(&link(me.clone(), me.clone()), me.id));
        assert!(concerns(&link(persona, me.clone()), me.id));
        assert!(!concerns(&link(namesake, me.clone()), me.id));
        assert!(!concerns(&link(stranger.clone(), me.clone()), me.id));
        let mut held = link(stranger, me.clone());
        held.holder_id = Some(me.id);
        assert!(concerns(&held, me.id));
    }

    #[test]
    fn kids_without_a_valid_snils_or_name_cannot_match() {
        let kid = |surname: Option<&str>, snils: Option<&str>| {
            Kid::from_federated(&FederatedKid {
                surname: surname.map(str::to_string),
                given_name: Some("Илья".into()),
                patronymic: None,
                birth_date: None,
                snils: snils.map(str::to_string),
            })
        };
        assert!(kid(Some("Иванов"), Some("221-321-421 90"))
            .matchable
            .is_some());
        assert!(kid(Some("Иванов"), Some("221-321-421 91"))
            .matchable
            .is_none());
        assert!(kid(Some("Иванов"), None).matchable.is_none());
        let nameless = kid(None, Some("221-321-421 90"));
        assert!(nameless.matchable.is_none());
        assert_eq!(nameless.masked_name, "***");
        assert_eq!(kid(Some("Иванов"), None).masked_name, "И***** И.", "masked");
    }
}
