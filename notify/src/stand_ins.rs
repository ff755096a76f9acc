//! Demo mode: stand-ins of every peer this crate delivers to (Aliyun SMS,
//! APNs, FCM, Huawei Push Kit, the two pages, the unified to-do), mounted
//! in-process on the server's own address. [`configure`] points each
//! provider that is not configured at its stand-in; a configured one keeps
//! its real peer. Compiled only with the `stand-ins` feature, so a
//! production build carries none of them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

use api::config::{DeliveryPolicy, SmsProvider};
use axum::Router;

use crate::config::{ConnectorConfig, NotifyConfig};
use crate::push::{apns_standin as apns, fcm_standin as fcm, huawei_standin as huawei};
use crate::sms::standin as sms;
use crate::todo::standin as todo;
use crate::two_pages::standin as two_pages;

/// The stand-ins of one demo server.
pub struct StandIns {
    addr: SocketAddr,
    sms_templates: BTreeMap<String, String>,
    /// The public half of the APNs key made for the demo, when APNs is the
    /// stand-in.
    apns_public_key: Option<String>,
}

/// Points every provider section that names no peer at its stand-in (the
/// SMS provider becomes Aliyun, at its stand-in, when no endpoint is set).
pub fn configure(
    policy: &mut DeliveryPolicy,
    config: &mut NotifyConfig,
    addr: SocketAddr,
) -> anyhow::Result<StandIns> {
    let base = |path: &str| format!("http://{addr}{path}");
    let n = &mut config.notify;
    if n.aliyun.endpoint.is_empty() {
        policy.sms_provider = SmsProvider::Aliyun;
        n.aliyun.endpoint = base(sms::PATH);
        n.aliyun.access_key_id = sms::DEMO_ACCESS_KEY_ID.into();
        n.aliyun.access_key_secret = sms::DEMO_ACCESS_KEY_SECRET.into();
    }
    if n.huawei.token_url.is_empty() {
        let h = &mut n.huawei;
        h.token_url = format!("{}/oauth2/v3/token", base(huawei::PATH));
        h.api_base = base(huawei::PATH);
        h.app_id = huawei::DEMO_APP_ID.into();
        h.client_id = huawei::DEMO_CLIENT_ID.into();
        h.client_secret = huawei::DEMO_CLIENT_SECRET.into();
    }
    let apns_public_key = if n.apns.base_url.is_empty() {
        let (private, public) = demo_apns_key()?;
        let a = &mut n.apns;
        a.base_url = base(apns::PATH);
        a.topic = apns::DEMO_TOPIC.into();
        a.team_id = apns::DEMO_TEAM_ID.into();
        a.key_id = apns::DEMO_KEY_ID.into();
        a.private_key = private.into();
        Some(public)
    } else {
        None
    };
    if n.fcm.api_base.is_empty() {
        let f = &mut n.fcm;
        f.api_base = base(fcm::PATH);
        f.project_id = fcm::DEMO_PROJECT.into();
        f.client_email = fcm::DEMO_CLIENT_EMAIL.into();
        f.private_key = fcm::DEMO_PRIVATE_KEY.into();
        f.token_uri = format!("{}/token", base(fcm::PATH));
    }
    let connector = |c: &mut ConnectorConfig, path: &str, app_id: &str, secret: &str| {
        if c.base_url.is_empty() {
            c.base_url = base(path);
            c.app_id = app_id.into();
            c.secret = secret.into();
        }
    };
    connector(
        &mut config.two_pages,
        two_pages::PATH,
        two_pages::DEMO_APP_ID,
        two_pages::DEMO_SECRET,
    );
    connector(
        &mut config.todo,
        todo::PATH,
        todo::DEMO_APP_ID,
        todo::DEMO_SECRET,
    );
    Ok(StandIns {
        addr,
        sms_templates: config.notify.sms_templates.clone(),
        apns_public_key,
    })
}

/// A fresh APNs signing key (the .p8 an Apple developer account would
/// issue) and its public half for the stand-in.
fn demo_apns_key() -> anyhow::Result<(String, String)> {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let private = secret.to_pkcs8_pem(LineEnding::LF)?.to_string();
    let public = secret.public_key().to_public_key_pem(LineEnding::LF)?;
    Ok((private, public))
}

impl StandIns {
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> anyhow::Result<Router<S>> {
        let mut routes = sms::routes(self.sms())
            .merge(huawei::routes(huawei::StandIn::new(
                huawei::DEMO_APP_ID,
                huawei::DEMO_CLIENT_ID,
                huawei::DEMO_CLIENT_SECRET,
            )))
            .merge(fcm::routes(fcm::StandIn::new(
                fcm::DEMO_PROJECT,
                fcm::DEMO_CLIENT_EMAIL,
                &format!("http://{}{}/token", self.addr, fcm::PATH),
                fcm::DEMO_PUBLIC_KEY,
            )?))
            .merge(two_pages::routes(two_pages::StandIn::new(
                two_pages::DEMO_APP_ID,
                two_pages::DEMO_SECRET,
            )))
            .merge(todo::routes(todo::StandIn::new(
                todo::DEMO_APP_ID,
                todo::DEMO_SECRET,
            )));
        if let Some(public) = &self.apns_public_key {
            let standin = apns::StandIn::new(
                apns::DEMO_TOPIC,
                apns::DEMO_TEAM_ID,
                apns::DEMO_KEY_ID,
                public,
            )?;
            routes = routes.merge(apns::routes(standin));
        }
        Ok(routes)
    }

    /// The Aliyun stand-in, which knows our templates' texts (to show what
    /// a phone displays) and which of them are verification codes.
    fn sms(&self) -> std::sync::Arc<sms::StandIn> {
        let t = &self.sms_templates;
        let texts: HashMap<String, String> = api::outbox::templates::SMS
            .iter()
            .filter_map(|tpl| Some((t.get(tpl.kind)?.clone(), tpl.text.to_owned())))
            .collect();
        let code_templates: HashSet<String> =
            t.get("verification_code").cloned().into_iter().collect();
        sms::StandIn::new(
            sms::DEMO_ACCESS_KEY_ID,
            sms::DEMO_ACCESS_KEY_SECRET,
            texts,
            code_templates,
        )
    }
}
