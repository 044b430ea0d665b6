//! Outgoing email. With an SMTP server configured (Bencher's `smtp` section) messages are
//! sent through it, over STARTTLS or TLS. Without one, they are written to the log at INFO
//! level in the layout Bencher uses, so a self-hoster can read the confirmation token there.
//! That is the one place a secret (that token) is ever logged, on purpose.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::SmtpConfig;
use crate::domain::names::escape_control;

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
    /// Sent through an SMTP server.
    Smtp(Arc<SmtpMailer>),
}

/// An SMTP connection's settings and the sender's address.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for an SMTP server: no TLS (`insecure_host`), STARTTLS, or TLS throughout.
    pub fn smtp(config: &SmtpConfig) -> Result<Self, String> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let builder = if config.insecure_host {
            Transport::builder_dangerous(&config.hostname)
        } else if config.starttls {
            Transport::starttls_relay(&config.hostname).map_err(|e| e.to_string())?
        } else {
            Transport::relay(&config.hostname).map_err(|e| e.to_string())?
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(secret)) = (&config.username, &config.secret) {
            builder =
                builder.credentials(Credentials::new(user.clone(), secret.expose().to_owned()));
        }
        let address = config
            .from_email
            .parse()
            .map_err(|e| format!("smtp.from_email: {e}"))?;
        Ok(Self::Smtp(Arc::new(SmtpMailer {
            transport: builder.build(),
            from: Mailbox::new(Some(config.from_name.clone()), address),
        })))
    }

    /// Sends (or logs) a message.
    pub fn send(&self, message: &Message) {
        match self {
            Self::Log => tracing::info!(
                "To: {} <{}>\nSubject: {}\nBody: \n{}",
                message.to_name,
                message.to_email,
                message.subject,
                message.body
            ),
            Self::Outbox(sent) => sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(message.clone()),
            Self::Smtp(smtp) => smtp.send(message),
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
    // Names come from users and may hold line breaks or terminal escapes; the email also
    // goes to the log, where a raw line break could forge a line of its own.
    let (name, inviter, organization) = (
        escape_control(name),
        escape_control(inviter),
        escape_control(organization),
    );
    Message {
        to_name: name.clone().into_owned(),
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

/// The notice the old address gets when a user's email changes.
pub fn email_changed(name: &str, old_email: &str, new_email: &str, console: &str) -> Message {
    Message {
        to_name: name.to_owned(),
        to_email: old_email.to_owned(),
        subject: "Your Bencher email address was changed".to_owned(),
        body: format!(
            "Ahoy {name},\nThe email address of your account was changed from {old_email} to {new_email}.\n\
             From now on, login tokens go to the new address. If you did not make this change, \
             contact your server's administrator at once.\n\n{}",
            footer(console)
        ),
    }
}

/// The notice every admin gets when someone new signs up.
pub fn new_user(admin_name: &str, admin_email: &str, console: &str, who: &str) -> Message {
    let who = escape_control(who);
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

impl SmtpMailer {
    /// Sends in the background: the request that caused the email does not wait for the
    /// SMTP server. A failure is logged without the message or its address.
    fn send(self: &Arc<Self>, message: &Message) {
        let to = message
            .to_email
            .parse()
            .map(|address| Mailbox::new(Some(message.to_name.clone()), address));
        let email = to.map_err(|e| e.to_string()).and_then(|to| {
            lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(message.subject.clone())
                .body(message.body.clone())
                .map_err(|e| e.to_string())
        });
        let email = match email {
            Ok(email) => email,
            Err(e) => {
                tracing::warn!(error = %e, "an email could not be built");
                return;
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("an email could not be sent: no async runtime");
            return;
        };
        let smtp = Arc::clone(self);
        runtime.spawn(async move {
            if let Err(e) = smtp.transport.send(email).await {
                tracing::warn!(error = %e, "an email could not be sent");
            }
        });
    }
}
