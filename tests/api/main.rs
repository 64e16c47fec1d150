//! Black-box tests: the real server over real HTTP, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary, one module per area.

mod accounts;
mod articles;
mod browser;
mod cli;
mod comments;
mod console;
mod cors;
mod discussions;
mod errors;
mod faults;
mod helpers;
mod import;
mod jwt;
mod letters;
mod mail;
mod moderation;
mod newsletter;
mod notifications;
mod operations;
mod premoderation;
mod privacy;
mod reads;
mod search;
mod security;
mod smtp;
mod spec;
mod views;
