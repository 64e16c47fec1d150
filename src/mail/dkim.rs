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
    use lettre::message::dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
        DkimSigningKey,
    };
    use lettre::message::header::HeaderName;
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
    // The headers a receiver trusts: RFC 8058 one-click unsubscribe counts only when both
    // `List-Unsubscribe` headers are signed. A header a mail lacks is signed as absent.
    let headers = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Reply-To",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
        "Content-Type",
    ]
    .into_iter()
    .map(HeaderName::new_from_ascii_str)
    .collect();
    Ok(Some(DkimConfig::new(
        selector.clone(),
        from.email.domain().to_string(),
        key,
        headers,
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )))
}
