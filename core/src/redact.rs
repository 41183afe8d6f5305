//! Removes secret values from text that floe did not write itself (catalog error bodies,
//! storage errors) before it reaches a user, a log or an error message.

use secrecy::{ExposeSecret, SecretString};

/// The secrets one catalog connection knows; every outside text is passed through it.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<SecretString>,
}

impl Redactor {
    pub fn add(&mut self, secret: &SecretString) {
        // Very short values would redact ordinary words; no real credential is that short.
        if secret.expose_secret().len() >= 4 {
            self.secrets.push(secret.clone());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.expose_secret(), "***");
        }
        out
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_known_secret() {
        let mut redactor = Redactor::default();
        redactor.add(&SecretString::from("s3cr3t-value"));
        redactor.add(&SecretString::from("ab"));
        assert_eq!(redactor.redact("bad client secret s3cr3t-value (ab)"), "bad client secret *** (ab)");
    }
}
