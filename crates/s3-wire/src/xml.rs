//! S3 XML bodies (Amazon S3 API Reference response syntax), serialised with quick-xml's serde
//! support, and bounded reading of XML request bodies (`MaxMessageLengthExceeded`,
//! `MalformedXML`).

use crate::error::S3Result;
use crate::s3_err;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde::Serialize;

/// The S3 XML namespace.
pub const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
/// The largest XML request body we accept (S3 caps DeleteObjects/Complete bodies similarly).
pub const MAX_XML_BODY: usize = 2 << 20;

/// Serialises `value` as an XML document whose root element is `root`.
pub fn to_xml<T: Serialize>(root: &str, value: &T) -> S3Result<String> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut ser = quick_xml::se::Serializer::with_root(&mut out, Some(root)).map_err(crate::S3Error::internal)?;
    ser.expand_empty_elements(false);
    value.serialize(ser).map_err(crate::S3Error::internal)?;
    Ok(out)
}

/// A 200 answer carrying an XML document.
pub fn xml_response(xml: String) -> http::Response<lakegate_net::body::Body> {
    let mut resp = http::Response::new(lakegate_net::body::full(xml));
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    resp
}

/// Reads an XML request body of at most [`MAX_XML_BODY`] bytes whose root element is `root` and
/// parses it into `T`.
pub async fn read_xml<B, T>(body: B, root: &str) -> S3Result<T>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
    T: for<'de> serde::Deserialize<'de>,
{
    let bytes = Limited::new(body, MAX_XML_BODY).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            s3_err!(MaxMessageLengthExceeded, "Your request was too big (limit {MAX_XML_BODY} bytes).")
        } else {
            s3_err!(IncompleteBody, "reading the request body: {e}")
        }
    })?;
    parse_xml(&bytes.to_bytes(), root)
}

/// Parses an XML document with root element `root` into `T` (`MalformedXML` on anything else).
pub fn parse_xml<T: for<'de> serde::Deserialize<'de>>(bytes: &[u8], root: &str) -> S3Result<T> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed())?;
    if root_name(text).as_deref() != Some(root) {
        return Err(malformed());
    }
    quick_xml::de::from_str(text).map_err(|_| malformed())
}

/// The local name of the document's root element (serde ignores it; S3's schema does not).
fn root_name(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            quick_xml::events::Event::Eof => return None,
            _ => {}
        }
    }
}

fn malformed() -> crate::S3Error {
    s3_err!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
}

/// `ListAllMyBucketsResult`.
#[derive(Debug, Serialize)]
pub struct ListAllMyBucketsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Owner")]
    pub owner: Owner,
    #[serde(rename = "Buckets")]
    pub buckets: Buckets,
}

#[derive(Debug, Clone, Serialize)]
pub struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct Buckets {
    #[serde(rename = "Bucket")]
    pub bucket: Vec<BucketEntry>,
}

#[derive(Debug, Serialize)]
pub struct BucketEntry {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "CreationDate")]
    pub creation_date: String,
}

/// `LocationConstraint` (GetBucketLocation): empty for us-east-1.
#[derive(Debug, Serialize)]
pub struct LocationConstraint {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "$text", skip_serializing_if = "String::is_empty")]
    pub region: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_buckets_xml_is_exact() {
        let v = ListAllMyBucketsResult {
            xmlns: XMLNS,
            owner: Owner { id: "lakegate".into(), display_name: "lakegate".into() },
            buckets: Buckets {
                bucket: vec![BucketEntry { name: "demo".into(), creation_date: "2013-05-24T00:00:00.000Z".into() }],
            },
        };
        assert_eq!(
            to_xml("ListAllMyBucketsResult", &v).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Owner><ID>lakegate</ID><DisplayName>lakegate</DisplayName></Owner><Buckets><Bucket><Name>demo</Name>\
             <CreationDate>2013-05-24T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>"
        );
        let empty = ListAllMyBucketsResult { buckets: Buckets { bucket: vec![] }, ..v };
        assert!(to_xml("ListAllMyBucketsResult", &empty).unwrap().contains("<Buckets/>"));
    }

    #[test]
    fn location_constraint() {
        let us = LocationConstraint { xmlns: XMLNS, region: String::new() };
        assert!(
            to_xml("LocationConstraint", &us)
                .unwrap()
                .ends_with("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>")
        );
        let eu = LocationConstraint { xmlns: XMLNS, region: "eu-west-1".into() };
        assert!(to_xml("LocationConstraint", &eu).unwrap().ends_with(">eu-west-1</LocationConstraint>"));
    }

    #[tokio::test]
    async fn xml_bodies_are_bounded_and_validated() {
        #[derive(serde::Deserialize, Debug)]
        struct Delete {
            #[serde(rename = "Object")]
            _objects: Vec<serde::de::IgnoredAny>,
        }
        use http_body_util::Full;
        let ok: S3Result<Delete> =
            read_xml(Full::new(Bytes::from("<Delete><Object><Key>a</Key></Object></Delete>")), "Delete").await;
        assert!(ok.is_ok());
        let bad: S3Result<Delete> = read_xml(Full::new(Bytes::from("<Delete><Object>")), "Delete").await;
        assert_eq!(bad.unwrap_err().code, crate::S3ErrorCode::MalformedXML);
        let big: S3Result<Delete> = read_xml(Full::new(Bytes::from(vec![b' '; MAX_XML_BODY + 1])), "Delete").await;
        assert!(big.is_err());
        let other: S3Result<Delete> =
            read_xml(Full::new(Bytes::from("<Remove><Object><Key>a</Key></Object></Remove>")), "Delete").await;
        assert_eq!(other.unwrap_err().code, crate::S3ErrorCode::MalformedXML);
        let big: S3Result<Delete> = read_xml(Full::new(Bytes::from(vec![b' '; MAX_XML_BODY + 1])), "Delete").await;
        assert_eq!(big.unwrap_err().code, crate::S3ErrorCode::MaxMessageLengthExceeded);
    }
}
