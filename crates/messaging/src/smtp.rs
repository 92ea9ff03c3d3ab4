//! Email by SMTP (lettre over rustls): STARTTLS required, implicit TLS with `smtps://`, and
//! no TLS only to a mail server on this machine's loopback.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use latch_app::Secret;
use latch_app::mail::{MailError, Mailer};
use latch_domain::Email;
use latch_domain::mail::Letter;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one conversation with the mail server may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How latch reaches the mail server, read from `LATCH_SMTP_URL`.
#[derive(Clone)]
pub struct SmtpTarget {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<(String, Secret)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: the server must offer STARTTLS, or nothing is sent.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://…?tls=none`, to a loopback host only.
    None,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "********"),
            )
            .finish()
    }
}

impl SmtpTarget {
    /// Reads `smtp://user:password@host:587`, `smtps://host:465` or, to loopback only,
    /// `smtp://127.0.0.1:2525?tls=none`; the problem, in words an operator can act on.
    pub fn parse(raw: &str) -> Result<SmtpTarget, String> {
        let url = url::Url::parse(raw).map_err(|_| {
            "LATCH_SMTP_URL must be a URL such as smtp://user:password@mail.example.com:587."
                .to_owned()
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("LATCH_SMTP_URL names no host.")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let plain_asked = url
            .query_pairs()
            .any(|(key, value)| key == "tls" && value == "none");
        if let Some((key, _)) = url
            .query_pairs()
            .find(|(key, value)| key != "tls" || value != "none")
        {
            return Err(format!(
                "LATCH_SMTP_URL: `{key}` is not a setting latch reads (only tls=none, to a loopback host)."
            ));
        }
        let security = match (url.scheme(), plain_asked) {
            ("smtp", false) => Security::StartTls,
            ("smtp", true) if is_loopback(&host) => Security::None,
            ("smtp", true) => {
                return Err(
                    "LATCH_SMTP_URL: tls=none is allowed only to a mail server on loopback (127.0.0.1, ::1, localhost)."
                        .to_owned(),
                );
            }
            ("smtps", false) => Security::Implicit,
            ("smtps", true) => {
                return Err(
                    "LATCH_SMTP_URL: smtps:// is TLS from the start; tls=none contradicts it."
                        .to_owned(),
                );
            }
            _ => {
                return Err(
                    "LATCH_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)."
                        .to_owned(),
                );
            }
        };
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            _ => 587,
        });
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => {
                Some((decode(user), Secret::new(decode(password))))
            }
            _ => {
                return Err(
                    "LATCH_SMTP_URL: give both a user and a password, or neither.".to_owned(),
                );
            }
        };
        Ok(SmtpTarget {
            host,
            port,
            security,
            credentials,
        })
    }

    pub fn security(&self) -> Security {
        self.security
    }
}

/// `%40` → `@`: user names and passwords in a URL are percent-encoded.
fn decode(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads `LATCH_EMAIL_FROM`: `no-reply@example.com` or `Harbor Practice <no-reply@example.com>`.
pub fn parse_from(raw: &str) -> Result<Mailbox, String> {
    raw.trim().parse::<Mailbox>().map_err(|_| {
        "LATCH_EMAIL_FROM must be an address such as no-reply@example.com or \"latch <no-reply@example.com>\"."
            .to_owned()
    })
}

/// Reads `LATCH_SMTP_CA_FILE`: PEM certificates of a private authority the mail server's
/// certificate chains to, trusted beside the system's roots.
pub fn read_authority(pem: &[u8]) -> Result<(), String> {
    Certificate::from_pem(pem)
        .map(|_| ())
        .map_err(|_| "LATCH_SMTP_CA_FILE must hold PEM certificates.".to_owned())
}

/// Sends each letter in one SMTP conversation of its own.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A client of the mail server at `target`, trusting `authority` (PEM) beside the system's
    /// roots when given.
    pub fn new(
        target: &SmtpTarget,
        from: Mailbox,
        authority: Option<&[u8]>,
    ) -> Result<SmtpMailer, String> {
        let tls = || {
            let mut parameters = TlsParameters::builder(target.host.clone());
            if let Some(pem) = authority {
                let certificate =
                    Certificate::from_pem(pem).map_err(|e| format!("LATCH_SMTP_CA_FILE: {e}"))?;
                parameters = parameters.add_root_certificate(certificate);
            }
            parameters
                .build_rustls()
                .map_err(|e| format!("TLS for the mail server: {e}"))
        };
        let security = match target.security {
            Security::StartTls => Tls::Required(tls()?),
            Security::Implicit => Tls::Wrapper(tls()?),
            Security::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&target.host)
            .port(target.port)
            .tls(security)
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = &target.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &Email, letter: &Letter) -> Result<(), MailError> {
        let to: Mailbox = to
            .as_str()
            .parse()
            .map_err(|_| MailError::Refused("an address the mail library cannot write".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject.clone())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(letter.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(letter.html.clone()),
                    ),
            )
            .map_err(|e| MailError::Refused(format!("the message could not be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!("email sent");
                Ok(())
            }
            // A permanent reply (5xx) will be the same next time; anything else may pass.
            Err(e) if e.is_permanent() => Err(MailError::Refused(e.to_string())),
            Err(e) => Err(MailError::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starttls_is_required_unless_implicit_tls_or_loopback_asks_for_none() {
        let t = SmtpTarget::parse("smtp://ana%40example.com:p%40ss+word@mail.example.com").unwrap();
        assert_eq!((t.security, t.port), (Security::StartTls, 587));
        let (user, password) = t.credentials.unwrap();
        assert_eq!(user, "ana@example.com");
        assert_eq!(password.expose(), "p@ss+word");

        let t = SmtpTarget::parse("smtps://mail.example.com").unwrap();
        assert_eq!((t.security, t.port), (Security::Implicit, 465));
        for loopback in ["127.0.0.1:2525", "[::1]:2525", "localhost:25"] {
            let t = SmtpTarget::parse(&format!("smtp://{loopback}?tls=none")).unwrap();
            assert_eq!(t.security, Security::None, "{loopback}");
        }
        for refused in [
            "smtp://mail.example.com?tls=none",
            "smtp://10.0.0.5:25?tls=none",
            "smtps://127.0.0.1?tls=none",
            "http://mail.example.com",
            "smtp://user@mail.example.com",
            "smtp://mail.example.com?tls=opportunistic",
            "not a url",
        ] {
            assert!(SmtpTarget::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_password_never_prints() {
        let t = SmtpTarget::parse("smtp://ana:hunter2secret@mail.example.com").unwrap();
        assert!(!format!("{t:?}").contains("hunter2secret"));
    }

    #[test]
    fn the_sender_may_carry_a_name() {
        assert!(parse_from("no-reply@example.com").is_ok());
        assert!(parse_from("Harbor Practice <no-reply@example.com>").is_ok());
        assert!(parse_from("not an address").is_err());
    }
}
