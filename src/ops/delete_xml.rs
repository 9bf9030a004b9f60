//! The DeleteObjects request body (`<Delete><Quiet/><Object><Key/><VersionId/></Object>…</Delete>`,
//! AWS `DeleteObjects` API reference), parsed from XML events so that a `<Key>` keeps its text
//! exactly: object keys may begin or end with spaces (`" "`, `"_ "`), which serde's XML text
//! handling would trim. Entities and CDATA sections are decoded; unknown elements are skipped.

use quick_xml::Reader;
use quick_xml::events::Event;
use s3_wire::S3Result;
use s3_wire::s3_err;

/// One `<Object>` of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId {
    pub key: String,
    pub version_id: Option<String>,
}

/// The whole request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delete {
    pub objects: Vec<ObjectId>,
    pub quiet: bool,
}

fn malformed() -> s3_wire::S3Error {
    s3_err!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
}

/// Where the parser is: the element names from the root down.
#[derive(Default)]
struct State {
    path: Vec<String>,
    text: String,
    key: Option<String>,
    version_id: Option<String>,
    out: Delete,
}

impl State {
    fn start(&mut self, name: &[u8]) -> S3Result<()> {
        let name = std::str::from_utf8(name).map_err(|_| malformed())?;
        let local = name.rsplit(':').next().unwrap_or(name);
        if self.path.is_empty() && local != "Delete" {
            return Err(malformed());
        }
        self.path.push(local.to_string());
        self.text.clear();
        Ok(())
    }

    fn end(&mut self) -> S3Result<()> {
        let text = std::mem::take(&mut self.text);
        let depth = self.path.len();
        let name = self.path.pop().ok_or_else(malformed)?;
        match (depth, name.as_str()) {
            (2, "Quiet") => self.out.quiet = parse_bool(text.trim())?,
            (3, "Key") if self.path[1] == "Object" => self.key = Some(text),
            (3, "VersionId") if self.path[1] == "Object" => self.version_id = Some(text.trim().to_string()),
            (2, "Object") => {
                let key = self.key.take().ok_or_else(malformed)?;
                self.out.objects.push(ObjectId { key, version_id: self.version_id.take() });
            }
            _ => {}
        }
        Ok(())
    }
}

fn parse_bool(s: &str) -> S3Result<bool> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(malformed()),
    }
}

/// Parses a DeleteObjects body; any XML or shape error is `MalformedXML`.
pub fn parse_delete(bytes: &[u8]) -> S3Result<Delete> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut st = State::default();
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(|_| malformed())? {
            Event::Start(e) => {
                if st.path.is_empty() && seen_root {
                    return Err(malformed());
                }
                seen_root = true;
                st.start(e.name().as_ref())?;
            }
            Event::Empty(e) => {
                if st.path.is_empty() {
                    return Err(malformed());
                }
                st.start(e.name().as_ref())?;
                st.end()?;
            }
            Event::End(_) => st.end()?,
            Event::Text(e) if !st.path.is_empty() => st.text.push_str(&e.unescape().map_err(|_| malformed())?),
            Event::Text(e) if e.iter().all(u8::is_ascii_whitespace) => {}
            Event::CData(e) if !st.path.is_empty() => {
                st.text.push_str(std::str::from_utf8(&e.into_inner()).map_err(|_| malformed())?)
            }
            Event::Text(_) | Event::CData(_) => return Err(malformed()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root || !st.path.is_empty() {
        return Err(malformed());
    }
    Ok(st.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(xml: &str) -> Vec<String> {
        parse_delete(xml.as_bytes()).unwrap().objects.into_iter().map(|o| o.key).collect()
    }

    #[test]
    fn keys_keep_leading_and_trailing_spaces() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key> </Key></Object><Object><Key>_ </Key></Object>
<Object><Key>  a b  </Key><VersionId>null</VersionId></Object></Delete>"#;
        assert_eq!(keys(xml), vec![" ", "_ ", "  a b  "]);
    }

    #[test]
    fn entities_cdata_quiet_and_version() {
        let xml = "<Delete><Quiet> true </Quiet><Object><Key>a&amp;b&#x20;<![CDATA[<c>]]></Key>\
                   <VersionId>v1</VersionId></Object></Delete>";
        let d = parse_delete(xml.as_bytes()).unwrap();
        assert!(d.quiet);
        assert_eq!(d.objects, vec![ObjectId { key: "a&b <c>".into(), version_id: Some("v1".into()) }]);
    }

    #[test]
    fn unknown_elements_are_skipped() {
        let xml = "<Delete><Foo><Key>x</Key></Foo><Object><Key>k</Key><Size>3</Size></Object></Delete>";
        assert_eq!(keys(xml), vec!["k"]);
    }

    #[test]
    fn malformed_bodies() {
        for bad in [
            "",
            "<Delete><Object><Key>a</Key></Object>",
            "<Delete><Object><VersionId>1</VersionId></Object></Delete>",
            "<Other><Object><Key>a</Key></Object></Other>",
            "<Delete></Delete><Delete></Delete>",
            "<Delete><Quiet>yes</Quiet></Delete>",
            "junk<Delete></Delete>",
            "<Delete><Object><Key>a</Object></Key></Delete>",
            "<Delete/>",
        ] {
            let e = parse_delete(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code, s3_wire::S3ErrorCode::MalformedXML, "{bad:?}");
        }
        assert!(parse_delete(b"<Delete>\xff</Delete>").is_err());
    }
}
