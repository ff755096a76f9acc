//! Statistics shaped for charts, as every statistics answer gives them:
//! one label per bar (or point), one series per measure, in the same order,
//! so a chart library takes `labels` and `series` as they are.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    pub name: String,
    pub data: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Chart {
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}
