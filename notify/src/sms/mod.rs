//! SMS providers.

pub mod aliyun;
pub mod log;
pub mod signature;
#[cfg(feature = "stand-ins")]
pub mod standin;
