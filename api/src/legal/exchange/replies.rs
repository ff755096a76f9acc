//! Replies (threaded by `parent_id`) and files: the sender's unit and the
//! recipients reply while the note stands (not to a recalled one); the
//! sender attaches files to a draft, an author to their reply. Files go
//! through the project's store (size and type limits, SM3).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::notes::tell;
use super::store::{self, NoteStatus, wrong_state};
use super::view::{NoteFile, NoteView, view};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::NoteId;
use crate::state::AppState;
use crate::{on_db, on_tx};

const TYPES: [&str; 4] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
const MAX_FILES: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/notes/{id}/replies", post(reply))
        .route(
            "/api/v1/legal/notes/{id}/files",
            post(attach).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/legal/notes/{id}/files/{file_id}", get(download))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteReplyInput {
    pub body: String,
    /// The reply this answers; none to answer the note.
    pub parent_id: Option<String>,
}

/// Replies to a note (its sender's unit or a recipient); the others are told.
#[utoipa::path(post, path = "/api/v1/legal/notes/{id}/replies", tag = "legal", params(("id" = String, Path)),
    request_body = NoteReplyInput,
    responses((status = 201, body = NoteView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "a draft, or recalled", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn reply(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
    ApiJson(r): ApiJson<NoteReplyInput>,
) -> ApiResult<(StatusCode, Json<NoteView>)> {
    Ok((
        StatusCode::CREATED,
        Json(write_reply(&app, &p, &id, r).await?),
    ))
}

pub async fn write_reply(
    app: &AppState,
    p: &Principal,
    id: &NoteId,
    r: NoteReplyInput,
) -> ApiResult<NoteView> {
    const PARENT: &str = "SELECT COUNT(*) FROM exchange_replies WHERE id = $1 AND note_id = $2";
    const SQL: &str = "INSERT INTO exchange_replies (id, note_id, parent_id, author_id, author, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    const OTHERS: &str =
        "SELECT user_id FROM exchange_deliveries WHERE note_id = $1 AND user_id <> $2";
    let (row, party) = store::note(app, p, id).await?;
    if row.status == NoteStatus::Recalled {
        return Err(ApiError::Conflict {
            code: "note_recalled",
            detail: "该工作交流已撤回，不能回复".into(),
        });
    }
    if row.status != NoteStatus::Sent {
        return Err(wrong_state(row.status, "回复"));
    }
    let body = crate::validate::text("body", Some(&r.body), 5000, true)?;
    if let Some(parent) = &r.parent_id {
        let found: i64 = on_db!(&app.db, c => sqlx::query_scalar(PARENT).bind(parent).bind(id).fetch_one(c).await)?;
        if found == 0 {
            return Err(ApiError::invalid("parent_id", "不是本工作交流的回复"));
        }
    }
    let rid = ulid::Ulid::new().to_string();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&rid).bind(id).bind(r.parent_id.as_deref()).bind(&p.user_id)
        .bind(p.actor_label()).bind(&body).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    // The sender hears of a reply; a reply from the sender's side goes to
    // the recipients.
    let mut to: Vec<crate::ids::UserId> = match party.sender_side {
        true => {
            on_tx!(&mut tx, c => sqlx::query_scalar(OTHERS).bind(id).bind(&p.user_id).fetch_all(c).await)?
        }
        false => vec![row.sender_id.clone()],
    };
    to.retain(|u| *u != p.user_id);
    tell(app, &mut tx, &row, &to, "exchange_reply", &rid).await?;
    if party.recipient {
        store::mark_read(&mut tx, id, p).await?;
    }
    store::event(&mut tx, id, p, "reply", Some(&rid)).await?;
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.exchange.reply",
        ("note", id.as_str()),
        json!({ "reply_id": rid }),
    )
    .await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    let (row, party) = store::note(app, p, id).await?;
    view(app, &row, party).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    pub name: String,
    /// Attach to this reply of mine; without it, to my draft.
    pub reply_id: Option<String>,
}

/// Attaches a file to a draft (its sender) or to one's own reply.
#[utoipa::path(post, path = "/api/v1/legal/notes/{id}/files", tag = "legal", params(("id" = String, Path), FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file, sent with its own Content-Type: PDF, JPEG, PNG or .docx"),
    responses((status = 201, body = NoteFile), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn attach(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<NoteFile>)> {
    const MINE: &str =
        "SELECT COUNT(*) FROM exchange_replies WHERE id = $1 AND note_id = $2 AND author_id = $3";
    const COUNT: &str = "SELECT COUNT(*) FROM exchange_files WHERE note_id = $1";
    let (row, _) = store::note(&app, &p, &id).await?;
    match &q.reply_id {
        None if row.sender_id != p.user_id => return Err(ApiError::Forbidden),
        None if row.status != NoteStatus::Draft => return Err(wrong_state(row.status, "添加附件")),
        Some(r) => {
            let mine: i64 = on_db!(&app.db, c => sqlx::query_scalar(MINE).bind(r).bind(&id).bind(&p.user_id).fetch_one(c).await)?;
            if mine == 0 {
                return Err(ApiError::invalid("reply_id", "不是您在本工作交流中的回复"));
            }
        }
        None => {}
    }
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(COUNT).bind(&id).fetch_one(c).await)?;
    if n >= MAX_FILES {
        return Err(ApiError::invalid(
            "name",
            format!("每个工作交流最多 {MAX_FILES} 个附件"),
        ));
    }
    let name = crate::validate::text("name", Some(&q.name), 200, false)?;
    let stored = crate::files::receive(&app, "exchange", &TYPES, &headers, body).await?;
    let file = NoteFile {
        id: ulid::Ulid::new().to_string(),
        reply_id: q.reply_id.clone(),
        file_name: name,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
        content_hash: stored.content_hash,
    };
    record(&app, &p, &id, &file, &stored.storage_key).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

async fn record(
    app: &AppState,
    p: &Principal,
    id: &NoteId,
    f: &NoteFile,
    key: &str,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO exchange_files (id, note_id, reply_id, file_name, content_type, size_bytes, \
         content_hash, storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&f.id).bind(id).bind(f.reply_id.as_deref()).bind(&f.file_name)
        .bind(&f.content_type).bind(f.size_bytes).bind(&f.content_hash).bind(key).bind(crate::clock::now())
        .execute(c).await.map(|_| ()))?;
    let detail = json!({ "file_id": f.id, "size": f.size_bytes, "hash": f.content_hash });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.exchange.file",
        ("note", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A note's file (who sees the note; not once recalled, for a recipient).
#[utoipa::path(get, path = "/api/v1/legal/notes/{id}/files/{file_id}", tag = "legal",
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    p: Principal,
    Path((id, file_id)): Path<(NoteId, String)>,
) -> ApiResult<Response> {
    const SQL: &str = "SELECT file_name, content_type, content_hash, storage_key FROM exchange_files WHERE id = $1 AND note_id = $2";
    let (row, party) = store::note(&app, &p, &id).await?;
    if row.status == NoteStatus::Recalled && !party.sender_side {
        return Err(ApiError::NotFound);
    }
    let f: Option<(String, String, String, String)> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&file_id).bind(&id).fetch_optional(c).await)?;
    let (name, content_type, hash, key) = f.ok_or(ApiError::NotFound)?;
    let bytes = crate::files::read(&app, &key, &hash).await?;
    Ok(crate::files::download(&name, content_type, bytes))
}
