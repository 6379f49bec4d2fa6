//! Invitation sheets: one printable A4 page per person with the school, the
//! name, the activation code, the activation address and a QR code of it,
//! and the steps in Russian. A self-contained HTML file (the browser's
//! "Print" or "Save as PDF" makes the paper copy).

use qrcode::render::svg;
use qrcode::QrCode;

use crate::app::school::IssuedCode;

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
    let class = issued
        .target
        .class_name
        .as_deref()
        .map(|c| format!(", класс {}", escape(c)))
        .unwrap_or_default();
    format!(
        r#"<section class="sheet">
<h1>Электронный дневник</h1>
<p>{school}{class}</p>
<h2>{name}</h2>
<p>Ваш код активации (действует один раз):</p>
<p class="code">{code}</p>
<p>Адрес для активации: <span class="url">{url_text}</span></p>
{qr}
<ol>
<li>Откройте адрес выше или наведите камеру телефона на QR-код.</li>
<li>Введите код (регистр и дефисы не важны) и проверьте свои данные. Если данные неверны, обратитесь в школу: исправляет их школа.</li>
<li>Укажите адрес электронной почты и номер мобильного телефона, придумайте пароль (не короче 10 символов).</li>
<li>Подтвердите почту по ссылке из письма — учётная запись станет активной.</li>
<li>После этого можно входить и через Госуслуги: учётные записи свяжутся по ФИО и СНИЛС.</li>
</ol>
<p>Никому не сообщайте этот код. Сотрудники школы и службы поддержки никогда его не спрашивают.</p>
</section>
"#,
        school = escape(school),
        name = escape(&issued.full_name()),
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
