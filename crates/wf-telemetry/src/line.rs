//! The human log format: one line per event — time, level, target, message and the event's own
//! fields — so a warning reads as one line among others and a log file greps line by line. The
//! span context (trace ids, consumer names) is left to the trace exporter, not repeated on every
//! line. Colour only when the writer is a terminal ([`std::io::IsTerminal`]); a warning's level is
//! then yellow and an error's red, so they stand out.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `2026-12-07T11:54:21.895770Z  WARN wf_routing::app::route: no eligible partner left, referral
/// escalated referral.id=ref_… escalation.id=esc_… tier="emergent"`, on one line.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneLine;

impl<S, N> FormatEvent<S, N> for OneLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        SystemTime.format_time(&mut writer)?;
        let level = *meta.level();
        let (on, off) = match (writer.has_ansi_escapes(), level) {
            (true, Level::ERROR) => ("\x1b[1;31m", "\x1b[0m"),
            (true, Level::WARN) => ("\x1b[1;33m", "\x1b[0m"),
            (true, _) => ("\x1b[2m", "\x1b[0m"),
            (false, _) => ("", ""),
        };
        write!(writer, " {on}{level:>5}{off} {}: ", meta.target())?;
        // Field values are written by the field formatter; a value holding a line break (an error's
        // chain, say) is kept on this line.
        let mut fields = String::new();
        ctx.format_fields(Writer::new(&mut fields), event)?;
        writer.write_str(&fields.replace(['\n', '\r'], " "))?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn logged(ansi: bool, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let layer = tracing_subscriber::fmt::layer().event_format(OneLine).with_ansi(ansi).with_writer(buffer.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
        let bytes = buffer.0.lock().expect("buffer").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn an_event_inside_spans_is_one_line_of_its_own_fields() {
        let text = logged(false, || {
            let span = tracing::info_span!("event.consume", event.id = "0190f5a2", consumer = "routing");
            let _entered = span.enter();
            tracing::warn!(referral.id = "ref_1", tier = "emergent", "no eligible partner left, referral escalated");
            tracing::warn!(error = %"first\nsecond", "a chain");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(
                " WARN wf_telemetry::line::tests: no eligible partner left, referral escalated referral.id=\"ref_1\" tier=\"emergent\""
            ),
            "{text}"
        );
        assert!(!text.contains("event.consume") && !text.contains("consumer"), "span context on the line: {text}");
        assert!(lines[1].contains("first second"), "{text}");
        assert!(!text.contains('\x1b'), "no colour unless asked: {text:?}");
    }

    #[test]
    fn colour_marks_warnings_when_the_writer_is_a_terminal() {
        let text = logged(true, || tracing::warn!("mandated report overdue"));
        assert!(text.contains("\x1b[1;33m WARN\x1b[0m"), "{text:?}");
    }
}
