//! E-mail over SMTP with lettre: STARTTLS by default (required, not opportunistic), TLS on
//! connect, or plain only when the configuration says `tls: none` (a relay on this host).

use super::message::Message;
use crate::pipeline::service::{Channel, SmtpTls};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// Sends `m` through the e-mail channel `c`.
pub async fn send(c: &Channel, m: &Message) -> Result<(), String> {
    let Channel::Email {
        smtp_host,
        smtp_port,
        tls,
        username,
        password,
        from,
        to,
    } = c
    else {
        return Err("not an e-mail channel".into());
    };
    let mut builder = lettre::Message::builder()
        .from(from.parse().map_err(|e| format!("`from` {from:?}: {e}"))?)
        .subject(m.title.clone())
        .header(ContentType::TEXT_PLAIN);
    for t in to {
        builder = builder.to(t.parse().map_err(|e| format!("`to` {t:?}: {e}"))?);
    }
    let email = builder.body(m.text()).map_err(|e| e.to_string())?;
    let transport = match tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(smtp_host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(smtp_host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            smtp_host,
        )),
    }
    .map_err(|e| e.to_string())?;
    let mut transport = transport
        .port(*smtp_port)
        .timeout(Some(Duration::from_secs(20)));
    if let (Some(u), Some(p)) = (username, password) {
        transport = transport.credentials(Credentials::new(
            u.expose().to_string(),
            p.expose().to_string(),
        ));
    }
    transport
        .build()
        .send(email)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
