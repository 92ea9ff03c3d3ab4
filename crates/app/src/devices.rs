//! A person's remembered devices: listing them and forgetting one or all.

use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::device::BrowserDevices;

use crate::audit::{Event, record};
use crate::crypto::token_hash;
use crate::error::AppError;
use crate::ids::PersonId;
use crate::latch::Core;
use crate::records::{ClientInfo, Device, Person};
use crate::sign_in::Authenticated;

#[derive(Clone)]
pub struct DeviceService {
    core: Arc<Core>,
}

impl DeviceService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        DeviceService { core }
    }

    /// The keyed tag under which this person's token sits in a browser's cookie.
    pub fn tag_for(&self, person_id: &PersonId) -> String {
        self.core.keys.device_tag(person_id)
    }

    /// The person's remembered devices, and which of them is this browser.
    pub async fn devices(
        &self,
        who: &Authenticated,
        browser: &BrowserDevices,
    ) -> Result<(Vec<Device>, Option<String>), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        let now = core.clock.now();
        let devices = core.store.devices_of(&person.id, now).await?;
        let current = match browser.token_for(&self.tag_for(&person.id)) {
            Some(token) => core
                .store
                .device(&person.id, &token_hash(token), now)
                .await?
                .map(|d| d.id),
            None => None,
        };
        Ok((devices, current))
    }

    /// Browsers remembered at or since the person's previous sign-in, other than this one:
    /// news to show them, since that sign-in may not have been the person. None without
    /// two-factor.
    pub async fn remembered_since_last_sign_in(
        &self,
        who: &Authenticated,
        browser: &BrowserDevices,
    ) -> Result<Vec<Device>, AppError> {
        let person = &who.account.person;
        if !person.has_two_factor() {
            return Ok(Vec::new());
        }
        let since = person.previous_sign_in_at.unwrap_or(person.created_at);
        let (devices, current) = self.devices(who, browser).await?;
        Ok(devices
            .into_iter()
            .filter(|d| d.created_at >= since && current.as_deref() != Some(d.id.as_str()))
            .collect())
    }

    pub async fn forget(
        &self,
        who: &Authenticated,
        device_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let person = &who.account.person;
        self.core
            .in_one_transaction(move |core| async move {
                if !core.store.delete_device(&person.id, device_id).await? {
                    return Err(AppError::NotFound);
                }
                audit_forgotten(&core, person, client, "one browser".into()).await
            })
            .await
    }

    pub async fn forget_all(
        &self,
        who: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let person = &who.account.person;
        self.core
            .in_one_transaction(move |core| async move {
                let ended = core.store.delete_devices_of(&person.id).await?;
                audit_forgotten(&core, person, client, format!("all ({ended})")).await
            })
            .await
    }
}

async fn audit_forgotten(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
    detail: String,
) -> Result<(), AppError> {
    record(
        core,
        Event::own(person, AuditKind::DeviceForgotten, client, detail),
    )
    .await
}
