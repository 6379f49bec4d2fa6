//! `esia-link operator grant`: gives a diary account a console role.

use app::console::grants::GrantRefusal;
use config::Config;
use i18n::Lang;

/// The audit log's actor for changes made from the command line.
const CLI_ACTOR: &str = "cli";

pub async fn grant(
    config: Config,
    login: &str,
    role: &str,
    reason: &str,
    lang: Lang,
) -> anyhow::Result<()> {
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let refusal = match app
        .console()
        .grant_role(login, role, reason, CLI_ACTOR)
        .await
    {
        Ok(Ok(granted)) => {
            println!(
                "{} {login}: {role}{}",
                lang.pick("роль выдана", "role granted"),
                granted
                    .school()
                    .map(|s| format!(" ({} {s})", lang.pick("школа", "school")))
                    .unwrap_or_default()
            );
            return Ok(());
        }
        Ok(Err(refusal)) => refusal,
        Err(app::AppError::ReasonRequired) => anyhow::bail!(
            "{}",
            lang.pick(
                "укажите причину (--reason), не короче пяти символов",
                "give a reason (--reason) of at least five characters"
            )
        ),
        Err(e) => return Err(e.into()),
    };
    anyhow::bail!(
        "{}",
        match refusal {
            GrantRefusal::NoSuchLogin => lang.pick(
                "нет учётной записи с таким логином",
                "no account has this login"
            ),
            GrantRefusal::UnknownRole => lang.pick(
                "роль: support, privileged_support или school_admin",
                "the role is support, privileged_support or school_admin"
            ),
            GrantRefusal::NoSchool => lang.pick(
                "администратор школы должен быть учётной записью школы",
                "a school administrator must be an account of a school"
            ),
        }
    )
}
