//! DKIM signing of Tribune's mails (lettre's `dkim`): the key and selector from the settings,
//! the domain of the sender.

use lettre::message::Mailbox;

use crate::config::Settings;

/// The DKIM signing of the sender's domain, when both settings are there (one without the
/// other stops the start, naming it).
pub fn config(
    settings: &Settings,
    from: &Mailbox,
) -> anyhow::Result<Option<lettre::message::dkim::DkimConfig>> {
    use lettre::message::dkim::{DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
    let (file, selector) = match (&settings.dkim_key_file, &settings.dkim_selector) {
        (None, None) => return Ok(None),
        (Some(file), Some(selector)) => (file, selector),
        (Some(_), None) => anyhow::bail!("TRIBUNE_DKIM_KEY_FILE needs TRIBUNE_DKIM_SELECTOR"),
        (None, Some(_)) => anyhow::bail!("TRIBUNE_DKIM_SELECTOR needs TRIBUNE_DKIM_KEY_FILE"),
    };
    let key = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("TRIBUNE_DKIM_KEY_FILE {}: {e}", file.display()))?;
    let algorithm = if key.contains("BEGIN RSA PRIVATE KEY") {
        DkimSigningAlgorithm::Rsa
    } else {
        DkimSigningAlgorithm::Ed25519
    };
    let key = DkimSigningKey::new(key.trim(), algorithm).map_err(|e| {
        anyhow::anyhow!(
            "TRIBUNE_DKIM_KEY_FILE {}: not a PKCS#1 PEM RSA key nor a base64 Ed25519 key: {e}",
            file.display()
        )
    })?;
    Ok(Some(DkimConfig::default_config(
        selector.clone(),
        from.email.domain().to_string(),
        key,
    )))
}
