//! Push providers.

pub mod huawei;
pub mod huawei_standin;
