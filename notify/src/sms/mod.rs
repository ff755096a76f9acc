//! SMS providers.

pub mod aliyun;
pub mod log;
pub mod signature;
pub mod standin;
