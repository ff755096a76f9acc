#![forbid(unsafe_code)]
//! Delivery of SMS and push notifications from the transactional outbox:
//! the dispatcher, the providers (Aliyun SMS, APNs, FCM v1, Huawei Push) and
//! the device registry. Built in the notifier issue; nothing is delivered
//! yet, and nothing in the product claims to deliver.
