//! The library's error type. Every message names the input and says what was wrong and,
//! where there is one, how to fix it; `main` prints it on one line and exits 2.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{source_name}: {message}")]
    Parse { source_name: String, message: String },

    #[error("{source_name}: not a goroutine dump or profile ({why}); use --format to force one of: debug0, debug1, debug2, panic, sigquit, log")]
    UnknownFormat { source_name: String, why: String },

    #[error("{source_name}: {what} is over the limit of {limit} bytes; raise it with {flag}")]
    TooLarge { source_name: String, what: &'static str, limit: u64, flag: &'static str },

    #[error("{source_name}: {message}")]
    Limit { source_name: String, message: String },

    #[error("{source_name}: {err}")]
    Io { source_name: String, err: std::io::Error },

    /// A URL could not be fetched; `source_name` is the URL without credentials.
    #[error("{source_name}: {message}")]
    Fetch { source_name: String, message: String },

    /// Several URLs could not be fetched: one line each.
    #[error("{} URLs could not be fetched:{}", .0.len(), .0.iter().map(|e| format!("\n  {e}")).collect::<String>())]
    FetchMany(Vec<Error>),

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    History(String),
}

impl Error {
    pub fn parse(source_name: &str, message: impl Into<String>) -> Self {
        Error::Parse { source_name: source_name.to_string(), message: message.into() }
    }
    pub fn io(source_name: &str, err: std::io::Error) -> Self {
        Error::Io { source_name: source_name.to_string(), err }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
