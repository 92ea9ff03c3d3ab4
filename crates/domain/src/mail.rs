//! The words of emails: each has a subject, a plain-text part and an HTML part, names the
//! practice it is about, shows times on the practice's clock, and carries at most one link,
//! which the caller built from the public URL alone.

use std::fmt::Write as _;

use crate::message::Notice;
use crate::zone::LocalTime;

/// An email as it goes out: the same words twice, as plain text and as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who an email comes from and is about: the product, and the practice when there is one.
#[derive(Debug, Clone, Copy)]
pub struct From<'a> {
    pub product: &'a str,
    pub practice: Option<&'a str>,
}

/// What an email says.
#[derive(Debug, Clone)]
pub enum Mail<'a> {
    /// `latch check-email`: the mail server took a message.
    Test,
    /// A link to choose a new password, valid an hour; `by_practice` when an owner or a
    /// manager sent it.
    PasswordReset {
        name: &'a str,
        link: &'a str,
        by_practice: bool,
    },
    /// An invitation to join the practice, valid until `expires`.
    Invitation {
        name: &'a str,
        invited_by: &'a str,
        link: &'a str,
        expires: &'a LocalTime,
    },
    /// A link to the new address, to confirm it is theirs, valid a day.
    EmailChange {
        name: &'a str,
        new_email: &'a str,
        link: &'a str,
    },
    /// To the old address: a change to another was asked for.
    EmailChangeAsked { name: &'a str, new_email: &'a str },
    /// A sign-in from a browser latch did not recognise.
    NewSignIn {
        name: &'a str,
        browser: &'a str,
        at: &'a LocalTime,
    },
    /// A change to how the person signs in, as the text or call of the same name says it.
    Notice {
        name: &'a str,
        notice: Notice,
        at: &'a LocalTime,
    },
}

impl Mail<'_> {
    pub fn compose(&self, from: From<'_>) -> Letter {
        let product = from.product;
        let practice = from.practice.unwrap_or(product);
        let not_you =
            format!("If this wasn't you, change your password and tell {practice} at once.");
        let (subject, greeting, paragraphs, button, closing): (String, _, Vec<String>, _, _) =
            match self {
                Mail::Test => (
                    format!("{product}: a test message"),
                    None,
                    vec![format!(
                        "This message shows that {product} can send email. Nothing needs doing."
                    )],
                    None,
                    None,
                ),
                Mail::PasswordReset {
                    name,
                    link,
                    by_practice,
                } => (
                    format!("Choose a new password for {practice}"),
                    Some(*name),
                    vec![
                        if *by_practice {
                            format!(
                                "{practice} sent you a link to choose a new password for {product}."
                            )
                        } else {
                            format!(
                                "Someone asked to reset the password of your {product} account at {practice}."
                            )
                        },
                        "The link works once, for one hour. A new password signs you out everywhere, and you'll sign in again with it; two-factor sign-in stays as it is.".to_owned(),
                    ],
                    Some(("Choose a new password", *link)),
                    Some(
                        "If you didn't ask for this, you can ignore this email: your password stays as it is."
                            .to_owned(),
                    ),
                ),
                Mail::Invitation {
                    name,
                    invited_by,
                    link,
                    expires,
                } => (
                    format!("{invited_by} invited you to {practice}"),
                    Some(*name),
                    vec![
                        format!(
                            "{invited_by} invited you to join {practice} on {product}, where you'll sign in to the practice's applications."
                        ),
                        format!(
                            "Follow the link to choose your password. It works once, until {}.",
                            expires.written()
                        ),
                    ],
                    Some(("Accept the invitation", *link)),
                    Some(format!(
                        "If you didn't expect this, you can ignore this email, or tell {practice}."
                    )),
                ),
                Mail::EmailChange {
                    name,
                    new_email,
                    link,
                } => (
                    format!("Confirm your new email for {practice}"),
                    Some(*name),
                    vec![
                        format!(
                            "You asked to use {new_email} to sign in to {product} at {practice}."
                        ),
                        "Follow the link within a day to confirm it; until then your old address stays in use.".to_owned(),
                    ],
                    Some(("Confirm this email", *link)),
                    Some(
                        "If you didn't ask for this, ignore this email: nothing changes."
                            .to_owned(),
                    ),
                ),
                Mail::EmailChangeAsked { name, new_email } => (
                    format!("Your {product} email is changing"),
                    Some(*name),
                    vec![format!(
                        "Someone signed in to your {product} account at {practice} asked to sign in with {new_email} instead of this address. It changes once that address confirms it."
                    )],
                    None,
                    Some(not_you.clone()),
                ),
                Mail::NewSignIn { name, browser, at } => (
                    format!("New sign-in to your {product} account"),
                    Some(*name),
                    vec![
                        format!(
                            "Your {product} account at {practice} was just signed in to from a browser we didn't recognize:"
                        ),
                        format!("{browser}, {}", at.written()),
                    ],
                    None,
                    Some(not_you.clone()),
                ),
                Mail::Notice { name, notice, at } => (
                    notice_subject(product, *notice),
                    Some(*name),
                    vec![
                        notice_sentence(product, *notice),
                        format!("When: {}", at.written()),
                    ],
                    None,
                    Some(match notice {
                        Notice::Locked => format!(
                            "Someone may know your password: please change it, and tell {practice}."
                        ),
                        _ => not_you.clone(),
                    }),
                ),
            };
        let mut text = String::new();
        let mut html = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"></head>\
             <body style=\"font-family: system-ui, sans-serif; line-height: 1.5; color: #1d2733;\">",
        );
        if let Some(name) = greeting {
            let _ = writeln!(text, "Hello {name},\n");
            let _ = write!(html, "<p>Hello {},</p>", escape(name));
        }
        for paragraph in &paragraphs {
            let _ = writeln!(text, "{paragraph}\n");
            let _ = write!(html, "<p>{}</p>", escape(paragraph));
        }
        if let Some((label, link)) = button {
            let _ = writeln!(text, "{label}: {link}\n");
            let _ = write!(
                html,
                "<p><a href=\"{href}\" style=\"display: inline-block; padding: 0.6em 1.2em; \
                 background: #1f5fa8; color: #ffffff; text-decoration: none; border-radius: 6px;\">{label}</a></p>\
                 <p style=\"font-size: 0.9em; color: #4a5866;\">Or copy this address into your browser: {href}</p>",
                href = escape(link),
                label = escape(label),
            );
        }
        if let Some(closing) = closing {
            let _ = writeln!(text, "{closing}\n");
            let _ = write!(html, "<p>{}</p>", escape(&closing));
        }
        let _ = write!(text, "— {product}, for {practice}");
        let _ = write!(
            html,
            "<p style=\"font-size: 0.9em; color: #4a5866;\">— {}, for {}</p></body></html>",
            escape(product),
            escape(practice)
        );
        Letter {
            subject,
            text,
            html,
        }
    }
}

fn notice_subject(product: &str, notice: Notice) -> String {
    match notice {
        Notice::TurnedOn => format!("Two-factor sign-in is on for your {product} account"),
        Notice::TurnedOff => {
            format!("Two-factor sign-in was turned off for your {product} account")
        }
        Notice::PhoneChanged => format!("Your {product} two-factor phone changed"),
        Notice::Locked => format!("Sign-in to your {product} account is paused"),
        Notice::PasswordChanged => format!("Your {product} password was changed"),
        Notice::PasswordReset => format!("Your {product} password was reset"),
        Notice::ResetByPractice => format!("Your practice reset your {product} two-factor sign-in"),
        Notice::MethodAdded => format!("A two-factor method was added to your {product} account"),
        Notice::MethodRemoved => {
            format!("A two-factor method was removed from your {product} account")
        }
        Notice::RecoveryCodeUsed => format!("A recovery code was used for your {product} account"),
    }
}

fn notice_sentence(product: &str, notice: Notice) -> String {
    match notice {
        Notice::TurnedOn => "Two-factor sign-in was turned on for your account: each sign-in now asks for a code as well as your password.".to_owned(),
        Notice::TurnedOff => "Two-factor sign-in was turned off for your account.".to_owned(),
        Notice::PhoneChanged => "Your two-factor sign-in now uses a different phone number.".to_owned(),
        Notice::Locked => "Too many wrong sign-in codes were entered for your account, so sign-in is paused for a while.".to_owned(),
        Notice::PasswordChanged => "The password of your account was changed, and your other sessions were signed out.".to_owned(),
        Notice::PasswordReset => format!("The password of your {product} account was reset with a link sent to this address, and every session was signed out."),
        Notice::ResetByPractice => "Your practice reset two-factor sign-in for your account. You'll set it up again the next time you sign in.".to_owned(),
        Notice::MethodAdded => "A new two-factor sign-in method was added to your account.".to_owned(),
        Notice::MethodRemoved => "A two-factor sign-in method was removed from your account, and your other sessions and remembered browsers were signed out.".to_owned(),
        Notice::RecoveryCodeUsed => "A recovery code was used to sign in to your account. Each code works once: when few are left, make a new set in My Profile.".to_owned(),
    }
}

/// Text made safe to stand in HTML, in an element or in a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> LocalTime {
        LocalTime {
            year: 2026,
            month: 12,
            day: 2,
            hour: 14,
            minute: 5,
            second: 0,
            abbreviation: "PST".to_owned(),
        }
    }

    fn from() -> From<'static> {
        From {
            product: "latch",
            practice: Some("Harbor <Counseling> & Co"),
        }
    }

    #[test]
    fn every_email_says_the_same_in_text_and_html_and_escapes_what_it_quotes() {
        let at = at();
        let mails = [
            Mail::Test,
            Mail::PasswordReset {
                name: "Ana",
                link: "https://latch.example.com/password-reset/abc",
                by_practice: false,
            },
            Mail::Invitation {
                name: "Ana",
                invited_by: "Dana <Owner>",
                link: "https://latch.example.com/invitations/abc",
                expires: &at,
            },
            Mail::EmailChange {
                name: "Ana",
                new_email: "ana@new.example.com",
                link: "https://latch.example.com/email/confirm/abc",
            },
            Mail::NewSignIn {
                name: "Ana",
                browser: "Firefox on Windows",
                at: &at,
            },
            Mail::Notice {
                name: "Ana",
                notice: Notice::PasswordReset,
                at: &at,
            },
        ];
        for mail in mails {
            let letter = mail.compose(from());
            assert!(!letter.html.contains("<Counseling>"), "{}", letter.html);
            assert!(!letter.html.contains("<Owner>"), "{}", letter.html);
            assert!(
                letter.text.contains("Harbor <Counseling> & Co"),
                "{}",
                letter.text
            );
            assert!(
                letter.html.contains("Harbor &lt;Counseling&gt; &amp; Co"),
                "{}",
                letter.html
            );
            if let Mail::PasswordReset { link, .. } | Mail::Invitation { link, .. } = mail {
                assert!(letter.text.contains(link));
                assert!(letter.html.contains(&format!("href=\"{link}\"")));
            }
        }
    }

    #[test]
    fn times_read_on_the_practice_clock() {
        let at = at();
        let letter = Mail::NewSignIn {
            name: "Ana",
            browser: "Chrome on macOS",
            at: &at,
        }
        .compose(from());
        assert!(
            letter
                .text
                .contains("Chrome on macOS, Dec 2, 2026, 2:05 PM PST"),
            "{}",
            letter.text
        );
    }

    #[test]
    fn the_words_of_emails() {
        let at = at();
        let from = From {
            product: "latch",
            practice: Some("Harbor Counseling"),
        };
        let all = [
            Mail::Test,
            Mail::PasswordReset {
                name: "Ana",
                link: "https://latch.example.com/password-reset/TOKEN",
                by_practice: true,
            },
            Mail::Invitation {
                name: "Ana",
                invited_by: "Dana",
                link: "https://latch.example.com/invitations/TOKEN",
                expires: &at,
            },
            Mail::EmailChangeAsked {
                name: "Ana",
                new_email: "ana@new.example.com",
            },
            Mail::Notice {
                name: "Ana",
                notice: Notice::Locked,
                at: &at,
            },
        ]
        .map(|m| {
            let l = m.compose(from);
            format!("subject: {}\n{}", l.subject, l.text)
        });
        insta::assert_snapshot!(all.join("\n\n----\n\n"));
    }
}
