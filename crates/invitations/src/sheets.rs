//! Invitation sheets: one printable A4 page per person with the school, the
//! name, the activation code, the activation address and a QR code of it,
//! and the steps in Russian. A self-contained HTML file (the browser's
//! "Print" or "Save as PDF" makes the paper copy), or a PDF
//! ([`super::sheets_pdf`]) that says the same.

use qrcode::render::svg;
use qrcode::QrCode;

use app::school::IssuedCode;

/// What every sheet says, whatever prints it.
pub const TITLE: &str = "Электронный дневник";
pub const CODE_INTRO: &str = "Ваш код активации (действует один раз):";
pub const URL_INTRO: &str = "Адрес для активации:";
pub const STEPS: [&str; 5] = [
    "Откройте адрес выше или наведите камеру телефона на QR-код.",
    "Введите код (регистр и дефисы не важны) и проверьте свои данные. Если данные неверны, обратитесь в школу: исправляет их школа.",
    "Укажите адрес электронной почты и номер мобильного телефона, придумайте пароль (не короче 10 символов).",
    "Подтвердите почту по ссылке из письма — учётная запись станет активной.",
    "После этого можно входить и через Госуслуги: учётные записи свяжутся по ФИО и СНИЛС.",
];
pub const WARNING: &str =
    "Никому не сообщайте этот код. Сотрудники школы и службы поддержки никогда его не спрашивают.";

/// «Школа № 7 г. Архангельска, класс 5А»
pub fn school_line(issued: &IssuedCode, school: &str) -> String {
    match issued.target.class_name.as_deref() {
        Some(class) => format!("{school}, класс {class}"),
        None => school.to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The QR code of `url` as inline SVG (empty if the URL is too long).
pub fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

pub fn header(school: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<title>Приглашения — {school}</title>
<style>
body {{ font-family: sans-serif; margin: 0; }}
.sheet {{ page-break-after: always; padding: 2cm; max-width: 17cm; }}
.code {{ font: bold 28pt monospace; letter-spacing: 2pt; margin: 0.4cm 0; }}
.url {{ font-family: monospace; word-break: break-all; }}
ol li {{ margin-bottom: 0.2cm; }}
@media print {{ .sheet {{ padding: 1.5cm; }} }}
</style></head><body>
"#,
        school = escape(school)
    )
}

pub fn sheet(issued: &IssuedCode, school: &str, url: &str) -> String {
    let steps: String = STEPS
        .iter()
        .map(|step| format!("<li>{}</li>\n", escape(step)))
        .collect();
    format!(
        r#"<section class="sheet">
<h1>{TITLE}</h1>
<p>{school}</p>
<h2>{name}</h2>
{children}<p>{CODE_INTRO}</p>
<p class="code">{code}</p>
<p>{URL_INTRO} <span class="url">{url_text}</span></p>
{qr}
<ol>
{steps}</ol>
<p>{WARNING}</p>
</section>
"#,
        school = escape(&school_line(issued, school)),
        name = escape(&issued.full_name()),
        children = if issued.children.is_empty() {
            String::new()
        } else {
            format!(
                "<p>{} {}</p>\n",
                crate::pdf::PARENT_OF,
                escape(&issued.children.join("; "))
            )
        },
        code = issued.code,
        url_text = escape(url),
        qr = qr_svg(url),
    )
}

pub const FOOTER: &str = "</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_inline_svg_and_names_are_escaped() {
        let svg = qr_svg("https://diary.example/activate?code=7KQ2-M9XD-ABCD");
        assert!(svg.contains("<svg"), "{svg}");
        assert_eq!(escape("<b>\"&"), "&lt;b&gt;&quot;&amp;");
        assert!(header("Школа <№1>").contains("Школа &lt;№1&gt;"));
    }
}
