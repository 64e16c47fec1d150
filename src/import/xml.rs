//! A streaming XML reader that hands out one record element at a time (a Disqus `<post>`, a
//! WordPress `<item>`) as a small tree, so that memory holds one record, whatever the file's
//! size. Refuses what hostile files use: a DOCTYPE (entity definitions, external entities);
//! an entity it does not know is an error, never a lookup.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One element: its qualified name as written (`wp:comment`), attributes, text (CDATA
/// included), child elements.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// A child's text, trimmed; `None` when absent or empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The most text one record may hold.
const MAX_RECORD: usize = 64 << 20;

pub struct XmlFile {
    reader: Reader<BufReader<File>>,
    buf: Vec<u8>,
    /// Open elements outside records.
    open: Vec<String>,
}

/// Why reading stopped, and where (a byte offset; [`line_at`] makes it a line).
#[derive(Debug)]
pub struct XmlError {
    pub at: u64,
    pub reason: String,
}

impl XmlFile {
    pub fn open(path: &Path) -> std::io::Result<XmlFile> {
        let file = File::open(path)?;
        let mut reader = Reader::from_reader(BufReader::with_capacity(1 << 16, file));
        reader.config_mut().check_end_names = true;
        Ok(XmlFile {
            reader,
            buf: Vec::with_capacity(1 << 16),
            open: Vec::new(),
        })
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// The next element named one of `names` (at any depth outside another record), or `None`
    /// at the end of a complete document.
    pub fn next_record(&mut self, names: &[&str]) -> Result<Option<Node>, XmlError> {
        loop {
            self.buf.clear();
            let event = read(&mut self.reader, &mut self.buf)?;
            let at = self.reader.buffer_position();
            match event {
                Event::Start(start) => {
                    let name = name_of(&start);
                    if names.contains(&name.as_str()) {
                        let node = start_node(&start).map_err(|r| fail(at, r))?;
                        return self.collect(node).map(Some);
                    }
                    self.open.push(name);
                }
                Event::Empty(start) => {
                    let name = name_of(&start);
                    if names.contains(&name.as_str()) {
                        return start_node(&start).map(Some).map_err(|r| fail(at, r));
                    }
                }
                Event::End(_) => {
                    self.open.pop();
                }
                Event::DocType(_) => return Err(fail(at, refused_doctype())),
                Event::Eof => {
                    return match self.open.last() {
                        Some(open) => Err(fail(
                            at,
                            format!("the file ends inside <{open}>: it is cut short"),
                        )),
                        None => Ok(None),
                    };
                }
                _ => {}
            }
        }
    }

    /// The rest of a record whose start tag was just read.
    fn collect(&mut self, root: Node) -> Result<Node, XmlError> {
        let mut stack = vec![root];
        let mut size = 0usize;
        loop {
            self.buf.clear();
            let event = read(&mut self.reader, &mut self.buf)?;
            let at = self.reader.buffer_position();
            match event {
                Event::Start(start) => {
                    let node = start_node(&start).map_err(|r| fail(at, r))?;
                    stack.push(node);
                }
                Event::Empty(start) => {
                    let node = start_node(&start).map_err(|r| fail(at, r))?;
                    stack.last_mut().expect("open").children.push(node);
                }
                Event::Text(text) => {
                    let text = text.unescape().map_err(|e| fail(at, e.to_string()))?;
                    size += text.len();
                    stack.last_mut().expect("open").text.push_str(&text);
                }
                Event::CData(data) => {
                    let data = data.into_inner();
                    let text = std::str::from_utf8(&data)
                        .map_err(|_| fail(at, "text that is not UTF-8"))?
                        .to_owned();
                    size += text.len();
                    stack.last_mut().expect("open").text.push_str(&text);
                }
                Event::End(_) => {
                    let done = stack.pop().expect("open");
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::DocType(_) => return Err(fail(at, refused_doctype())),
                Event::Eof => {
                    let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
                    return Err(fail(
                        at,
                        format!("the file ends inside <{open}>: it is cut short"),
                    ));
                }
                _ => {}
            }
            if size > MAX_RECORD {
                return Err(fail(at, "a record holds over 64 MB of text"));
            }
        }
    }
}

/// The next event, or the reader's error where it happened.
fn read<'b>(
    reader: &mut Reader<BufReader<File>>,
    buf: &'b mut Vec<u8>,
) -> Result<Event<'b>, XmlError> {
    reader.read_event_into(buf).map_err(|e| XmlError {
        at: reader.error_position(),
        reason: e.to_string(),
    })
}

fn fail(at: u64, reason: impl Into<String>) -> XmlError {
    XmlError {
        at,
        reason: reason.into(),
    }
}

fn refused_doctype() -> &'static str {
    "the file declares a DOCTYPE, which exports do not: refused (entity definitions and \
     external entities are how hostile XML attacks)"
}

fn name_of(start: &BytesStart) -> String {
    String::from_utf8_lossy(start.name().as_ref()).into_owned()
}

fn start_node(start: &BytesStart) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let value = attr.unescape_value().map_err(|e| e.to_string())?;
        attrs.push((
            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Node {
        name: name_of(start),
        attrs,
        ..Node::default()
    })
}

/// The line (from 1) of byte offset `at` in the file.
pub fn line_at(path: &Path, at: u64) -> std::io::Result<u64> {
    let mut reader = BufReader::new(File::open(path)?.take(at));
    let mut line = 1;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(line);
        }
        line += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        let n = chunk.len();
        reader.consume(n);
    }
}
