//! Push providers.

pub mod apns;
pub mod apns_standin;
pub mod fcm;
pub mod fcm_standin;
pub mod huawei;
pub mod huawei_standin;
pub mod log;
pub mod token_cache;
