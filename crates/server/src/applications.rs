//! The operator's commands for the applications that sign people in through latch
//! (`latch client ...`) and for the keys their tokens are signed with (`latch keys rotate`).

use clap::Subcommand;
use latch_app::Latch;
use latch_app::applications::{ApplicationInput, RETIRED_KEY_SHOWN_SECONDS};
use latch_app::records::Application;
use latch_domain::application::AppUri;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register an application; prints it as JSON, with its secret shown this once.
    Add {
        /// The application's name, as the sign-in page shows it ("Sign in to continue to ...").
        #[arg(long)]
        name: String,
        /// Where latch sends people back with a code: an exact address, https:// (or http://
        /// on localhost). Give it once for each address.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Where latch may send people after they sign out from the application.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// Where latch tells the application that a session ended (Back-Channel Logout).
        #[arg(long, value_name = "URI")]
        backchannel_logout_uri: Option<String>,
        /// A single-page or native application: no secret, it proves itself with PKCE.
        #[arg(long)]
        public: bool,
    },
    /// List the registered applications as JSON (secrets are never shown again).
    List,
    /// Remove an application: it can no longer sign anyone in.
    Remove {
        /// The application's client id.
        client_id: String,
    },
    /// Give a confidential application a new secret; the old one stops working at once.
    RotateSecret {
        /// The application's client id.
        client_id: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Sign with a new key from now on; the previous one stays published while what it
    /// signed lives.
    Rotate,
}

pub async fn client(latch: &Latch, command: ClientCommand) -> anyhow::Result<()> {
    let applications = &latch.applications;
    match command {
        ClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            public,
        } => {
            let input = ApplicationInput {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                public,
            };
            let (added, secret) = applications.add(input).await.map_err(crate::said)?;
            let mut shown = shown(&added);
            if let Some(secret) = secret {
                shown["client_secret"] = Value::from(secret.expose());
            }
            answer(&shown);
            eprintln!(
                "Registered {}. Keep the client secret now: latch keeps only its hash.",
                added.name
            );
        }
        ClientCommand::List => {
            let all = applications.list().await.map_err(crate::said)?;
            let shown: Vec<Value> = all.iter().map(shown).collect();
            answer(&json!({ "clients": shown }));
        }
        ClientCommand::Remove { client_id } => {
            applications.remove(&client_id).await.map_err(crate::said)?;
            eprintln!("Removed the application {client_id}.");
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = applications
                .rotate_secret(&client_id)
                .await
                .map_err(crate::said)?;
            answer(&json!({"client_id": client_id, "client_secret": secret.expose()}));
            eprintln!("The old secret no longer works. Keep this one now: it is shown once.");
        }
    }
    Ok(())
}

pub async fn keys(latch: &Latch, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate => {
            let id = latch
                .applications
                .rotate_signing_key()
                .await
                .map_err(crate::said)?;
            eprintln!(
                "The key {id} signs from now on. The previous key stays published for {} hours.",
                RETIRED_KEY_SHOWN_SECONDS / 3600
            );
        }
    }
    Ok(())
}

/// An application as the console prints it; its secret only where the caller adds it.
fn shown(application: &Application) -> Value {
    fn all(uris: &[AppUri]) -> Vec<&str> {
        uris.iter().map(AppUri::as_str).collect()
    }
    json!({
        "client_id": application.id,
        "name": application.name,
        "public": application.secret_hash.is_none(),
        "redirect_uris": all(&application.redirect_uris),
        "post_logout_redirect_uris": all(&application.post_logout_redirect_uris),
        "backchannel_logout_uri": application.backchannel_logout_uri.as_ref().map(AppUri::as_str),
    })
}

/// The command's answer, one JSON object on standard output for the operator's scripts (the
/// contract of `latch client`); everything a person reads goes to standard error.
#[allow(
    clippy::print_stdout,
    reason = "standard output is where these commands answer"
)]
fn answer(value: &Value) {
    println!("{value}");
}
