//! The family journey the demo starts in the middle of: Новикова Ольга
//! (mock «novikova») with two confirmed children in schools of two regions
//! (Максим, Архангельск; Софья, Санкт-Петербург), and her mother Новикова
//! Галина (mock «grandma»), a trusted person with one open grant (Максим)
//! and one invitation waiting for her answer (Софья).
//!
//! Seeded through the use cases a person's clicks reach, so the audit log,
//! notifications and timestamps are what the journey would have left; the
//! demo's clock is set back to when each step happened and returned after.
//! Two steps stand in for logins the visitor has not made: Новикова's State
//! Services identity is linked to her diary account as her first login
//! would link it (so the second school, which lists her by SNILS, does not
//! make her next login ambiguous), and the children are confirmed from the
//! mock's State Services data as that login confirms them.

use chrono::Duration;
use uuid::Uuid;

use app::clock::{Clock, SettableClock};
use app::family::InviteForm;
use app::school::roster::{BytesSource, ImportOptions, RosterFormat};
use app::shared::{Session, TrustedClaimant};
use app::App;
use domain::access::{InvitationAction, ServiceSet};
use domain::name::FullName;
use domain::snils::Snils;
use domain::tier::Tier;
use ephemeral::sessions::SessionData;
use federation::FederatedKid;
use store::{NewLink, Store};

/// Who the family journey is about (mock logins and diary logins).
pub const PARENT: &str = "novikova";
pub const PARENT_ACCOUNT: &str = "novikova.oi";
pub const GRANDMOTHER: &str = "grandma";
pub const OPEN_FOR: &str = "novikov.ma";
pub const PENDING_FOR: &str = "novikova.sa";

const ACTOR: &str = "system:demo";
const PROVIDER: &str = "esia";

/// What the seeding made, for the banner and the tests.
#[derive(Debug, Clone)]
pub struct Journeys {
    pub parent: Uuid,
    pub grandmother: Uuid,
    /// The accepted invitation whose waiting period is over.
    pub open_invitation: Uuid,
    /// The invitation waiting for the grandmother's answer.
    pub pending_invitation: Uuid,
}

fn mock_person(login: &str) -> anyhow::Result<mock_idp::Person> {
    mock_idp::shipped_persons()
        .into_iter()
        .find(|p| p.login == login)
        .ok_or_else(|| anyhow::anyhow!("the mock IdP ships «{login}»"))
}

async fn account(store: &Store, login: &str) -> anyhow::Result<store::Account> {
    store
        .find_account_by_login(login)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo roster has {login}"))
}

/// A session as a login would leave it (never stored: the use cases read
/// only its account and CSRF token).
fn session_of(account_id: Uuid, subject: &str, at: i64) -> Session {
    Session {
        id: format!("demo-seed-{account_id}"),
        data: SessionData {
            account_id,
            provider: PROVIDER.into(),
            subject: subject.into(),
            created_at: at,
            csrf: "demo-seed".into(),
            generation: 0,
            just_linked: false,
            tier: None,
        },
    }
}

/// Seeds the journey on top of the demo roster (run after
/// [`crate::ops::roster::seed`]). `clock` must be the app's clock; it is
/// back where it was when this returns.
pub async fn seed_journeys(
    app: &App,
    store: &Store,
    clock: &SettableClock,
) -> anyhow::Result<Journeys> {
    let start = clock.offset();
    clock.advance(Duration::days(-3));
    let seeded = seed_steps(app, store, clock).await;
    clock.advance(start - clock.offset());
    seeded
}

async fn seed_steps(app: &App, store: &Store, clock: &SettableClock) -> anyhow::Result<Journeys> {
    let mother = mock_person(PARENT)?;
    let parent = account(store, PARENT_ACCOUNT).await?;
    let sofya = account(store, PENDING_FOR).await?;

    // Her first State Services login (three days ago) linked her account.
    store
        .create_link(
            &NewLink {
                provider: PROVIDER.into(),
                subject: mother.oid.clone(),
                account_id: parent.id,
                method: "auto_snils".into(),
                tier_at_link: mother.tier.as_str().into(),
            },
            ACTOR,
            "demo: full name + SNILS matched at her first login",
        )
        .await?;

    // Софья's school lists her mother (with her SNILS) as its roster would.
    let spb2 = sofya
        .school_id
        .ok_or_else(|| anyhow::anyhow!("{PENDING_FOR} has a school"))?;
    let rows = serde_json::json!([
        {
            "key": PENDING_FOR, "role": "pupil", "surname": sofya.surname,
            "given_name": sofya.given_name, "patronymic": sofya.patronymic,
            "birth_date": sofya.birth_date.map(|d| d.to_string()),
            "snils": sofya.snils, "class": "1А", "login": PENDING_FOR,
        },
        {
            "key": PARENT_ACCOUNT, "role": "parent", "surname": parent.surname,
            "given_name": parent.given_name, "patronymic": parent.patronymic,
            "birth_date": parent.birth_date.map(|d| d.to_string()),
            "snils": parent.snils, "children": [PENDING_FOR],
        },
    ]);
    let report = app
        .school()
        .import_roster(
            spb2,
            &BytesSource {
                bytes: serde_json::to_vec(&rows)?,
                format: RosterFormat::Json,
            },
            &ImportOptions::default(),
            ACTOR,
            &|_| {},
        )
        .await?;
    if !report.ok() || report.relationships_added != 1 {
        anyhow::bail!("the second school's roster did not list Новикова: {report:?}");
    }

    // Her State Services data names both children: both links confirmed.
    let kids: Vec<FederatedKid> = mother
        .kids
        .iter()
        .map(|k| FederatedKid {
            surname: Some(k.surname.clone()),
            given_name: Some(k.given_name.clone()),
            patronymic: k.patronymic.clone(),
            birth_date: Some(k.birth_date),
            snils: k.snils.clone(),
        })
        .collect();
    let confirmed = app.login().confirm_kids_from_esia(parent.id, &kids).await?;
    if confirmed.confirmed.len() != 2 {
        anyhow::bail!("Новикова's children were not confirmed: {confirmed:?}");
    }

    // She invites her mother for Максим; her mother logs in, accepts; the
    // waiting period has long passed.
    let grandma = mock_person(GRANDMOTHER)?;
    let grandma_snils = grandma
        .snils
        .clone()
        .ok_or_else(|| anyhow::anyhow!("«{GRANDMOTHER}» has a SNILS"))?;
    let maxim = account(store, OPEN_FOR).await?;
    let parent_session = session_of(parent.id, &mother.oid, clock.now().timestamp());
    let invite = |pupil: Uuid| InviteForm {
        pupil_id: Some(pupil),
        surname: grandma.surname.clone(),
        snils: grandma_snils.clone(),
        phone: String::new(),
        services: ServiceSet::ALL,
    };
    let open_invitation = app
        .family()
        .invite_trusted(&parent_session, "demo-seed", &invite(maxim.id))
        .await?
        .map_err(|refusal| anyhow::anyhow!("invitation refused: {refusal:?}"))?
        .id;
    let grandmother = app
        .family()
        .claim_trusted_invitations(&TrustedClaimant {
            provider: PROVIDER.into(),
            subject: grandma.oid.clone(),
            name: FullName::new(
                &grandma.surname,
                &grandma.given_name,
                grandma.patronymic.as_deref(),
            )?,
            snils: Some(Snils::parse(&grandma_snils)?),
            birth_date: Some(grandma.birth_date),
            tier: Tier::Standard,
            verified_phone: None,
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("«{GRANDMOTHER}» matched no invitation"))?;
    let grandma_session = session_of(grandmother, &grandma.oid, clock.now().timestamp());
    app.family()
        .act_on_invitation(
            &grandma_session,
            "demo-seed",
            open_invitation,
            InvitationAction::Accept,
        )
        .await?
        .map_err(|refusal| anyhow::anyhow!("acceptance refused: {refusal:?}"))?;

    // Yesterday she invited her mother for Софья too: not answered yet.
    clock.advance(Duration::days(2));
    let pending_invitation = app
        .family()
        .invite_trusted(&parent_session, "demo-seed", &invite(sofya.id))
        .await?
        .map_err(|refusal| anyhow::anyhow!("invitation refused: {refusal:?}"))?
        .id;

    Ok(Journeys {
        parent: parent.id,
        grandmother,
        open_invitation,
        pending_invitation,
    })
}

fn full_name(a: &store::Account) -> String {
    match &a.patronymic {
        Some(p) => format!("{} {} {p}", a.surname, a.given_name),
        None => format!("{} {}", a.surname, a.given_name),
    }
}

/// The journeys' people as the database now names them (for `/demo` and
/// the banner): nothing here is typed twice.
pub async fn guide(app: &App, store: &Store) -> anyhow::Result<super::page::Guide> {
    let school_name = |a: &store::Account| {
        let id = a.school_id;
        async move {
            match id {
                Some(id) => Ok::<_, anyhow::Error>(app.school().get(id).await?.name),
                None => Ok(String::new()),
            }
        }
    };
    let parent = account(store, PARENT_ACCOUNT).await?;
    let maxim = account(store, OPEN_FOR).await?;
    let sofya = account(store, PENDING_FOR).await?;
    let admin = account(store, "lebedeva.tv").await?;
    let operator = account(store, "kravtsova.ea").await?;
    let grandma = mock_person(GRANDMOTHER)?;
    Ok(super::page::Guide {
        parent: full_name(&parent),
        children: vec![
            (full_name(&maxim), school_name(&maxim).await?),
            (full_name(&sofya), school_name(&sofya).await?),
        ],
        grandmother: [
            Some(grandma.surname.clone()),
            Some(grandma.given_name.clone()),
            grandma.patronymic.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
        open_child: full_name(&maxim),
        pending_child: full_name(&sofya),
        school_admin: full_name(&admin),
        school_admin_school: school_name(&admin).await?,
        operator: full_name(&operator),
    })
}
