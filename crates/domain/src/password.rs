//! Password strength: 10–128 characters and a zxcvbn score of at least 3, judged with the
//! practice's name, the person's name and email as context so none of them makes a password.

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password shorter than {MIN_LENGTH} characters")]
    TooShort,
    #[error("a password longer than {MAX_LENGTH} characters")]
    TooLong,
    /// Easy to guess; `hint` is the strength estimator's own warning, when it has one (its
    /// words: "This is a top-10 common password.").
    #[error("a password too easy to guess")]
    Guessable { hint: Option<String> },
}

/// Words a password must not lean on: the practice's name, the person's name and email.
#[derive(Debug, Default)]
pub struct PasswordContext<'a> {
    pub practice_name: &'a str,
    pub person_name: &'a str,
    pub email: &'a str,
}

impl PasswordContext<'_> {
    fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        for text in [self.practice_name, self.person_name] {
            words.push(text.to_lowercase());
            // "Dana Reed" must also rule out "danareed".
            words.push(text.split_whitespace().collect::<String>().to_lowercase());
            words.extend(text.split_whitespace().map(str::to_lowercase));
        }
        words.push(self.email.to_lowercase());
        if let Some((local, domain)) = self.email.split_once('@') {
            words.push(local.to_lowercase());
            words.extend(domain.split('.').map(str::to_lowercase));
        }
        words.retain(|w| w.chars().count() >= 3);
        words
    }
}

/// Checks a new password. Costs a few milliseconds for long inputs: callers run it off the
/// async workers, beside password hashing.
pub fn check_strength(password: &str, context: &PasswordContext<'_>) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(WeakPassword::TooLong);
    }
    let words = context.words();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    if (entropy.score() as u8) >= 3 {
        return Ok(());
    }
    let hint = entropy
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string());
    Err(WeakPassword::Guessable { hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> PasswordContext<'static> {
        PasswordContext {
            practice_name: "Harbor Counseling",
            person_name: "Dana Reed",
            email: "dana@harborcounseling.com",
        }
    }

    #[test]
    fn a_short_password_is_refused_with_its_length() {
        assert_eq!(
            check_strength("Abc123!x", &context()),
            Err(WeakPassword::TooShort)
        );
    }

    #[test]
    fn an_overlong_password_is_refused() {
        let long = "correct horse battery staple ".repeat(5);
        assert_eq!(
            check_strength(&long, &context()),
            Err(WeakPassword::TooLong)
        );
    }

    #[test]
    fn a_common_password_is_refused() {
        assert!(check_strength("password123", &context()).is_err());
        assert!(check_strength("qwertyuiop", &context()).is_err());
    }

    #[test]
    fn the_practice_and_person_names_do_not_make_a_password() {
        assert!(check_strength("HarborCounseling1", &context()).is_err());
        assert!(check_strength("danareed2024!", &context()).is_err());
    }

    #[test]
    fn a_few_unrelated_words_are_accepted() {
        check_strength("maple kettle orbit 42", &context()).unwrap();
        check_strength("violet-tractor-sandwich", &context()).unwrap();
    }
}
