//! What an ESIA error code means for whoever runs the integration, and
//! what to check: shown to operators in the support console and by
//! `esia-link diagnose`, never to parents. Codes esia-link does not know
//! keep their number and get no explanation.

use i18n::Lang;

/// The explanation of `code` (e.g. `ESIA-007053`) in `lang`, if known.
pub fn operator_explanation(code: &str, lang: Lang) -> Option<&'static str> {
    let (ru, en) = match code {
        "ESIA-007002" => (
            "ЕСИА не знает эту информационную систему: проверьте client_id (мнемонику, зарегистрированную на технологическом портале) и что система зарегистрирована именно в этой среде ЕСИА (тестовой или продуктивной).",
            "ESIA does not know this client: check client_id (the mnemonic registered on the ESIA technology portal) and that the system is registered in this ESIA environment (test vs production).",
        ),
        "ESIA-007003" => (
            "Параметр запроса искажён или повторён (state — не UUID, timestamp не в формате «yyyy.MM.dd HH:mm:ss +hhmm»).",
            "A request parameter is malformed or repeated (state not a UUID, timestamp format 'yyyy.MM.dd HH:mm:ss +hhmm').",
        ),
        "ESIA-007004" => (
            "Человек нажал «Отказать» на странице согласия ЕСИА. С нашей стороны исправлять нечего.",
            "The person pressed «Отказать» (deny) on the ESIA consent page. Nothing to fix on our side.",
        ),
        "ESIA-007005" => (
            "Системе не разрешён этот тип ответа, способ получения или область доступа: проверьте права мнемоники на технологическом портале.",
            "The client may not use this response type, grant or scope: check the access rights granted to the mnemonic on the technology portal.",
        ),
        "ESIA-007006" => (
            "Запрошенная область доступа (scope) неизвестна или не выдана системе: сравните scopes провайдера с одобренными на технологическом портале.",
            "A requested scope is unknown or not granted to this client: compare the provider's scopes with those approved on the technology portal.",
        ),
        "ESIA-007007" | "ESIA-007008" => (
            "Сбой или перегрузка ЕСИА: повторите позже; если вход проходит, исправлять нечего.",
            "ESIA failed or is overloaded: retry later; nothing to fix here if it passes.",
        ),
        "ESIA-007011" => (
            "Код авторизации неверен, истёк или уже использован: обычно повторный или медленный возврат из ЕСИА; проверьте часы сервера и redirect_uri запроса токена.",
            "The authorization code is invalid, expired or used: usually a replayed or slow callback; check the clock and the token request's redirect_uri.",
        ),
        "ESIA-007014" => (
            "В запросе нет обязательного параметра: проверьте сборку и настройки провайдера (client_certificate_hash, scope, timestamp).",
            "A mandatory parameter is missing from the request: check the relying party build and the provider configuration (client_certificate_hash, scope, timestamp).",
        ),
        "ESIA-007015" => (
            "Время запроса (timestamp) вне окна ЕСИА: часы сервера сбиты. Проверьте NTP на каждом экземпляре.",
            "The request's timestamp is outside ESIA's window: the server clock is off. Check NTP on every instance.",
        ),
        "ESIA-007023" => (
            "redirect_uri не зарегистрирован для системы: зарегистрируйте на технологическом портале ровно {public_url}/auth/callback/{provider}.",
            "The redirect_uri is not registered for this client: register {public_url}/auth/callback/{provider} exactly on the technology portal.",
        ),
        "ESIA-007053" => (
            "ЕСИА отвергла подпись client_secret: сертификат, зарегистрированный для мнемоники, не соответствует ключу подписи или client_certificate_hash, подписывающая программа возвращает CMS-конверт вместо «сырой» подписи ГОСТ, или подписана другая строка.",
            "ESIA rejected the client_secret signature: the certificate registered for the mnemonic does not match the signing key or client_certificate_hash, the signer returns a CMS envelope instead of the raw GOST signature, or the signed string differs.",
        ),
        "ESIA-007055" => (
            "Система не допускает вход с неподтверждённой (упрощённой) учётной записью.",
            "The client does not allow login with unverified (simplified) accounts.",
        ),
        "ESIA-005013" => (
            "Маркер доступа истёк раньше, чем прочитаны данные человека: проверьте расхождение часов и задержки между запросом токена и запросами к REST API.",
            "The access token expired before the person data was read: check clock skew and slow steps between token and REST calls.",
        ),
        _ => return None,
    };
    Some(lang.pick(ru, en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_that_matter_are_explained_in_both_languages() {
        for code in [
            "ESIA-007002",
            "ESIA-007004",
            "ESIA-007005",
            "ESIA-007014",
            "ESIA-007015",
            "ESIA-007023",
            "ESIA-007053",
        ] {
            let ru = operator_explanation(code, Lang::Ru).unwrap_or_default();
            let en = operator_explanation(code, Lang::En).unwrap_or_default();
            assert!(ru.len() > 20 && en.len() > 20, "{code}");
            assert_ne!(ru, en, "{code}");
            assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{code}: {ru}");
        }
        assert_eq!(operator_explanation("ESIA-007099", Lang::Ru), None);
    }
}
