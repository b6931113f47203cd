//! The configuration object types, one file each, as Icinga 2.13 has them.
//!
//! Every table was taken from a running Icinga 2.13.6: the fields and their
//! defaults are what `icinga2 daemon -C` writes to its objects file for a
//! freshly defined object, the required flags and references are what it
//! refuses (`Attribute must not be empty.`, `Object 'x' of type 'Host' does
//! not exist.`), and the kinds are how it converts assigned values. The rules
//! Icinga applies beyond required attributes and references are listed, with
//! their exact messages, in `NOTES.md` next to this file.
//!
//! # Derived defaults
//!
//! A field whose default is not a fixed value has
//! [`FieldDefault::Derived`](crate::schema::FieldDefault::Derived) with one
//! of these rules:
//!
//! - `"name"`: the object's short name (`name`), so `display_name` of
//!   `object Service "ping" { host_name = "h" ... }` is `ping`. This is the
//!   only rule that also applies when the configuration sets the field to
//!   `null` or `""`: Icinga reports the name then too.
//! - `"now"`: the time the object is created, in seconds since the epoch
//!   with fractions (`entry_time` of comments and downtimes).
//! - `"const:NAME|FALLBACK"`: the value of the global constant `NAME` when it
//!   is defined (with `-D` or `const`, even as `""`), otherwise the literal
//!   text after `|`, which may be empty. `"const:ApiBindHost|::"` is `::`
//!   unless `ApiBindHost` is defined; `"const:Environment|"` is `""` unless
//!   `Environment` is defined.
//! - `"path:CONST/rest"`: the value of the global constant `CONST` followed
//!   by `/rest`: `"path:SpoolDir/perfdata/host-perfdata"` is
//!   `/var/spool/icinga2/perfdata/host-perfdata` with Debian's constants.
//!   The constants used are `SpoolDir` (`/var/spool/icinga2`), `LogDir`
//!   (`/var/log/icinga2`), `CacheDir` (`/var/cache/icinga2`) and `InitRunDir`
//!   (`/run/icinga2`), read when the object is created, so `-D` overrides
//!   apply.
//! - `"json:LITERAL"`: a fixed array or dictionary that is not empty, written
//!   as JSON (`FieldDefault` has no variant for it); every object gets its
//!   own copy.
//!
//! Except for `"name"`, a derived default is an ordinary default: assigning
//! `""` or `null` to the field stores that value (converted for the field's
//! kind), it is not derived again.
//!
//! Fields whose value comes from a `default` template rather than from the
//! type (`execute` of the commands, `update` of `TimePeriod`) have a `Null`
//! default here; Picket's `builtin.conf` provides the templates.
//!
//! # Order
//!
//! `load_after` lists, for each type, the types its validation looks up:
//! the targets of its references (`refers_to`), `Host` and `Service` for the
//! types named after them, and `Zone` for every type but `Zone` and
//! `Endpoint`, because any object may set `zone`. `Zone` loads after
//! `Endpoint` (its `endpoints`); `Endpoint` loads after nothing, so an
//! `Endpoint` with a `zone` attribute cannot be checked against committed
//! zones (Icinga checks references against the declared objects, which has
//! no such cycle).
//!
//! [`ALL`] lists the types in the order Icinga 2.13.6 commits them, observed
//! by looking up objects of every type from inside object bodies, except
//! that `Endpoint` and `Zone` come first (Icinga commits `Zone` 18th and
//! `Endpoint` 25th). With `commit::type_order` this gives `Endpoint`, `Zone`,
//! then Icinga's own sequence: `GelfWriter`, `GraphiteWriter`,
//! `InfluxdbWriter`, `ElasticsearchWriter`, `NotificationComponent`,
//! `SyslogLogger`, `LivestatusListener`, `IdoPgsqlConnection`,
//! `IdoMysqlConnection`, `StatusDataWriter`, `ExternalCommandListener`,
//! `CompatLogger`, `CheckerComponent`, `UserGroup`, `TimePeriod`, `User`,
//! `ServiceGroup`, `PerfdataWriter`, `Influxdb2Writer`,
//! `NotificationCommand`, `IcingaApplication`, `HostGroup`, `EventCommand`,
//! `FileLogger`, `ApiUser`, `OpenTsdbWriter`, `CheckCommand`,
//! `ApiListener`, `IcingaDB`, `Host`, `Service`, `ScheduledDowntime`,
//! `Notification`, `Dependency`, `Comment`, `Downtime`.
//!
//! Icinga prints its `Instantiated N <plural>.` lines in yet another fixed
//! order (its type registry order, not the commit order): `GelfWriter`,
//! `GraphiteWriter`, `InfluxdbWriter`, `ElasticsearchWriter`,
//! `NotificationComponent`, `SyslogLogger`, `LivestatusListener`,
//! `IdoPgsqlConnection`, `IdoMysqlConnection`, `StatusDataWriter`,
//! `ExternalCommandListener`, `CompatLogger`, `CheckerComponent`,
//! `UserGroup`, `TimePeriod`, `User`, `Service`, `ServiceGroup`,
//! `ScheduledDowntime`, `Zone`, `PerfdataWriter`, `Influxdb2Writer`,
//! `NotificationCommand`, `Notification`, `Host`, `IcingaApplication`,
//! `HostGroup`, `Dependency`, `Comment`, `EventCommand`, `Downtime`,
//! `Endpoint`, `FileLogger`, `ApiUser`, `OpenTsdbWriter`, `CheckCommand`,
//! `ApiListener`, `IcingaDB`.

mod api_listener;
mod api_user;
mod check_command;
mod checker_component;
mod comment;
mod compat_logger;
mod dependency;
mod downtime;
mod elasticsearch_writer;
mod endpoint;
mod event_command;
mod event_store;
mod external_command_listener;
mod file_logger;
mod gelf_writer;
mod graphite_writer;
mod host;
mod host_group;
mod icinga_application;
mod icinga_db;
mod ido_mysql_connection;
mod ido_pgsql_connection;
mod influxdb2_writer;
mod influxdb_writer;
mod livestatus_listener;
mod notification;
mod notification_command;
mod notification_component;
mod open_tsdb_writer;
mod perfdata_writer;
mod scheduled_downtime;
mod service;
mod service_group;
mod status_data_writer;
mod syslog_logger;
mod time_period;
mod user;
mod user_group;
mod zone;

pub use api_listener::API_LISTENER;
pub use api_user::API_USER;
pub use check_command::CHECK_COMMAND;
pub use checker_component::CHECKER_COMPONENT;
pub use comment::COMMENT;
pub use compat_logger::COMPAT_LOGGER;
pub use dependency::DEPENDENCY;
pub use downtime::DOWNTIME;
pub use elasticsearch_writer::ELASTICSEARCH_WRITER;
pub use endpoint::ENDPOINT;
pub use event_command::EVENT_COMMAND;
pub use event_store::EVENT_STORE;
pub use external_command_listener::EXTERNAL_COMMAND_LISTENER;
pub use file_logger::FILE_LOGGER;
pub use gelf_writer::GELF_WRITER;
pub use graphite_writer::GRAPHITE_WRITER;
pub use host::HOST;
pub use host_group::HOST_GROUP;
pub use icinga_application::ICINGA_APPLICATION;
pub use icinga_db::ICINGA_DB;
pub use ido_mysql_connection::IDO_MYSQL_CONNECTION;
pub use ido_pgsql_connection::IDO_PGSQL_CONNECTION;
pub use influxdb2_writer::INFLUXDB2_WRITER;
pub use influxdb_writer::INFLUXDB_WRITER;
pub use livestatus_listener::LIVESTATUS_LISTENER;
pub use notification::NOTIFICATION;
pub use notification_command::NOTIFICATION_COMMAND;
pub use notification_component::NOTIFICATION_COMPONENT;
pub use open_tsdb_writer::OPEN_TSDB_WRITER;
pub use perfdata_writer::PERFDATA_WRITER;
pub use scheduled_downtime::SCHEDULED_DOWNTIME;
pub use service::SERVICE;
pub use service_group::SERVICE_GROUP;
pub use status_data_writer::STATUS_DATA_WRITER;
pub use syslog_logger::SYSLOG_LOGGER;
pub use time_period::TIME_PERIOD;
pub use user::USER;
pub use user_group::USER_GROUP;
pub use zone::ZONE;

use crate::schema::TypeSchema;

/// Every configuration object type, in Icinga 2.13.6's commit order with
/// `Endpoint` and `Zone` first (see the module documentation).
pub static ALL: &[&TypeSchema] = &[
    &ENDPOINT,
    &ZONE,
    &GELF_WRITER,
    &GRAPHITE_WRITER,
    &INFLUXDB_WRITER,
    &ELASTICSEARCH_WRITER,
    &NOTIFICATION_COMPONENT,
    &SYSLOG_LOGGER,
    &LIVESTATUS_LISTENER,
    &IDO_PGSQL_CONNECTION,
    &IDO_MYSQL_CONNECTION,
    &STATUS_DATA_WRITER,
    &EXTERNAL_COMMAND_LISTENER,
    &COMPAT_LOGGER,
    &CHECKER_COMPONENT,
    &USER_GROUP,
    &TIME_PERIOD,
    &USER,
    &SERVICE_GROUP,
    &PERFDATA_WRITER,
    &INFLUXDB2_WRITER,
    &NOTIFICATION_COMMAND,
    &ICINGA_APPLICATION,
    &HOST_GROUP,
    &EVENT_COMMAND,
    &FILE_LOGGER,
    &API_USER,
    &OPEN_TSDB_WRITER,
    &CHECK_COMMAND,
    &API_LISTENER,
    &ICINGA_DB,
    &HOST,
    &SERVICE,
    &SCHEDULED_DOWNTIME,
    &NOTIFICATION,
    &DEPENDENCY,
    &COMMENT,
    &DOWNTIME,
    // Picket's own.
    &EVENT_STORE,
];
