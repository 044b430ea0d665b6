//! Outgoing email. Without an SMTP server configured, messages are written to the log at
//! INFO level in the layout Bencher uses, so a self-hoster can read the confirmation token
//! there. This is the one place a secret (that token) is ever logged, on purpose.

/// One email.
#[derive(Clone, Debug)]
pub struct Message {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
}

/// Where emails go.
#[derive(Clone, Debug, Default)]
pub enum Mailer {
    /// Written to the log.
    #[default]
    Log,
    /// Kept in memory (for embedding Keyward, and for tests that read what was sent).
    Outbox(std::sync::Arc<std::sync::Mutex<Vec<Message>>>),
}

impl Mailer {
    /// Sends (or logs) a message.
    pub fn send(&self, message: &Message) {
        match self {
            Self::Log => tracing::info!(
                "To: {} <{}>>\nSubject: {}\nBody: \n{}",
                message.to_name,
                message.to_email,
                message.subject,
                message.body
            ),
            Self::Outbox(sent) => sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(message.clone()),
        }
    }
}

/// The signup or login confirmation email.
pub fn confirmation(name: &str, email: &str, console: &str, token: &str, login: bool) -> Message {
    let (subject, action) = if login {
        ("Confirm Bencher Login", "login to Bencher")
    } else {
        ("Confirm Bencher Signup", "signup for Bencher")
    };
    Message {
        to_name: name.to_owned(),
        to_email: email.to_owned(),
        subject: subject.to_owned(),
        body: format!(
            "Ahoy {name},\nPlease, click the button below or use the provided token to {action}.\n\
             Confirm Email: {console}/auth/confirm?token={token}\n\
             Confirmation Token: {token}\n\n{}",
            footer(console)
        ),
    }
}

/// The invitation to join an organization.
pub fn invitation(
    name: &str,
    email: &str,
    console: &str,
    token: &str,
    inviter: &str,
    organization: &str,
) -> Message {
    Message {
        to_name: name.to_owned(),
        to_email: email.to_owned(),
        subject: format!("Invitation to join {organization}"),
        body: format!(
            "Ahoy {name},\n{inviter} has invited you to join {organization} on Bencher.\n\
             Accept Invite: {console}/auth/signup?invite={token}\n\
             Invite Token: {token}\n\n{}",
            footer(console)
        ),
    }
}

/// The notice every admin gets when someone new signs up.
pub fn new_user(admin_name: &str, admin_email: &str, console: &str, who: &str) -> Message {
    Message {
        to_name: admin_name.to_owned(),
        to_email: admin_email.to_owned(),
        subject: "🐰 New Bencher User".to_owned(),
        body: format!(
            "Ahoy {admin_name},\n{who} has signed up.\n\n{}",
            footer(console)
        ),
    }
}

fn footer(console: &str) -> String {
    format!(
        "See you soon,\nThe Bencher Team\nBencher - Continuous Benchmarking\nManage email settings ({console}/help)"
    )
}
