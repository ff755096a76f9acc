//! Computed fields: a small arithmetic language over a form's other fields,
//! parsed by a fixed grammar and evaluated on decimals. It cannot loop,
//! call out, or reach anything but the values of the return it is given,
//! which is why it is ours rather than a general script engine.
//!
//! ```text
//! expr   := term (("+" | "-") term)*
//! term   := unary (("*" | "/") unary)*
//! unary  := "-" unary | atom
//! atom   := NUMBER | FIELD | "sum" "(" FIELD "." FIELD ")" | "(" expr ")"
//! FIELD  := [a-z][a-z0-9_]*          NUMBER := digits ["." digits]
//! ```
//!
//! `sum(table.column)` adds a column of a repeating table. A division by
//! zero, an overflow, or a field left empty makes the result empty, never a
//! made-up number.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

/// The longest expression accepted, and the deepest nesting: enough for
/// any real form, small enough that parsing cannot be made expensive.
const MAX_LEN: usize = 500;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Number(Decimal),
    Field(String),
    /// `sum(table.column)`
    SumColumn {
        table: String,
        column: String,
    },
    Neg(Box<Expr>),
    Binary(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// Why an expression was refused, and where (a character offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub reason: &'static str,
}

/// What an expression reads: plain fields, and (table, column) pairs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refs {
    pub fields: BTreeSet<String>,
    pub columns: BTreeSet<(String, String)>,
}

/// The values an expression is evaluated over.
pub trait Values {
    /// A numeric field's value; None when empty.
    fn number(&self, field: &str) -> Option<Decimal>;
    /// The values of a table's numeric column, one per row (None: empty).
    fn column(&self, table: &str, column: &str) -> Vec<Option<Decimal>>;
}

pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_LEN {
        return Err(ParseError {
            at: MAX_LEN,
            reason: "表达式过长",
        });
    }
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.skip_ws();
    if p.at < p.s.len() {
        return Err(p.error("无法识别的内容"));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            at: self.at,
            reason,
        }
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("表达式嵌套过深"));
        }
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(b'+') => Op::Add,
                Some(b'-') => Op::Sub,
                _ => break,
            };
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.term()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(b'*') => Op::Mul,
                Some(b'/') => Op::Div,
                _ => break,
            };
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat(b'-') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error("表达式嵌套过深"));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(b'(') => {
                self.at += 1;
                let e = self.expr()?;
                if !self.eat(b')') {
                    return Err(self.error("缺少右括号"));
                }
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_lowercase() => {
                let name = self.name();
                if name == "sum" && self.eat(b'(') {
                    return self.sum_column();
                }
                Ok(Expr::Field(name))
            }
            Some(_) => Err(self.error("此处应为数字、字段名或括号")),
            None => Err(self.error("表达式不完整")),
        }
    }

    fn name(&mut self) -> String {
        let start = self.at;
        while self
            .s
            .get(self.at)
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        while self
            .s
            .get(self.at)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
        {
            self.at += 1;
        }
        let text = String::from_utf8_lossy(&self.s[start..self.at]);
        text.parse::<Decimal>()
            .map(Expr::Number)
            .map_err(|_| ParseError {
                at: start,
                reason: "数字格式不正确",
            })
    }

    fn sum_column(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        if !self.peek().is_some_and(|c| c.is_ascii_lowercase()) {
            return Err(self.error("sum() 中应为“表格.列”"));
        }
        let table = self.name();
        if !self.eat(b'.') || !self.peek().is_some_and(|c| c.is_ascii_lowercase()) {
            return Err(self.error("sum() 中应为“表格.列”"));
        }
        let column = self.name();
        if !self.eat(b')') {
            return Err(self.error("缺少右括号"));
        }
        Ok(Expr::SumColumn { table, column })
    }
}

impl Expr {
    /// The fields and table columns this expression reads.
    pub fn refs(&self) -> Refs {
        let mut refs = Refs::default();
        self.collect(&mut refs);
        refs
    }

    fn collect(&self, refs: &mut Refs) {
        match self {
            Expr::Number(_) => {}
            Expr::Field(f) => {
                refs.fields.insert(f.clone());
            }
            Expr::SumColumn { table, column } => {
                refs.columns.insert((table.clone(), column.clone()));
            }
            Expr::Neg(e) => e.collect(refs),
            Expr::Binary(a, _, b) => {
                a.collect(refs);
                b.collect(refs);
            }
        }
    }

    /// The value over `values`; None when a field it needs is empty, or on a
    /// division by zero or an overflow.
    pub fn eval(&self, values: &dyn Values) -> Option<Decimal> {
        match self {
            Expr::Number(n) => Some(*n),
            Expr::Field(f) => values.number(f),
            Expr::SumColumn { table, column } => values
                .column(table, column)
                .into_iter()
                .try_fold(Decimal::ZERO, |acc, v| {
                    acc.checked_add(v.unwrap_or_default())
                }),
            Expr::Neg(e) => e.eval(values).map(|v| -v),
            Expr::Binary(a, op, b) => {
                let (a, b) = (a.eval(values)?, b.eval(values)?);
                match op {
                    Op::Add => a.checked_add(b),
                    Op::Sub => a.checked_sub(b),
                    Op::Mul => a.checked_mul(b),
                    Op::Div => a.checked_div(b),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Return {
        fields: BTreeMap<&'static str, Decimal>,
        rows: Vec<Option<Decimal>>,
    }

    impl Values for Return {
        fn number(&self, field: &str) -> Option<Decimal> {
            self.fields.get(field).copied()
        }
        fn column(&self, table: &str, column: &str) -> Vec<Option<Decimal>> {
            if (table, column) == ("docs", "pages") {
                self.rows.clone()
            } else {
                Vec::new()
            }
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn ret() -> Return {
        Return {
            fields: [
                ("received", d("120")),
                ("answered", d("90")),
                ("fee", d("10.50")),
            ]
            .into(),
            rows: vec![Some(d("3")), None, Some(d("4.5"))],
        }
    }

    fn eval(text: &str) -> Option<Decimal> {
        parse(text).unwrap().eval(&ret())
    }

    #[test]
    fn arithmetic_on_decimals_with_the_usual_precedence() {
        assert_eq!(eval("received - answered"), Some(d("30")));
        assert_eq!(eval("answered / received * 100"), Some(d("75")));
        assert_eq!(eval("(received + answered) * 2 - -1"), Some(d("421")));
        assert_eq!(eval("fee * 3"), Some(d("31.50")), "no binary float");
        assert_eq!(eval("0.1 + 0.2"), Some(d("0.3")));
        assert_eq!(eval("sum(docs.pages) + 1"), Some(d("8.5")));
    }

    #[test]
    fn empty_inputs_and_division_by_zero_give_no_value() {
        assert_eq!(eval("received / (answered - 90)"), None);
        assert_eq!(eval("missing + 1"), None);
    }

    #[test]
    fn what_it_reads() {
        let e = parse("a + b * sum(t.c) - a").unwrap();
        assert_eq!(e.refs().fields, ["a", "b"].map(String::from).into());
        assert_eq!(e.refs().columns, [("t".to_owned(), "c".to_owned())].into());
    }

    #[test]
    fn bad_expressions_are_refused_with_where() {
        for (text, at) in [
            ("a +", 3),
            ("(a + b", 6),
            ("a $ b", 2),
            ("sum(a)", 5),
            ("1.2.3", 0),
            ("", 0),
            ("A + 1", 0),
        ] {
            assert_eq!(parse(text).unwrap_err().at, at, "{text}");
        }
        let deep = "(".repeat(40) + "1" + &")".repeat(40);
        assert_eq!(parse(&deep).unwrap_err().reason, "表达式嵌套过深");
        assert!(parse(&"1+".repeat(300)).is_err(), "too long");
        assert!(parse(&"-".repeat(100)).is_err(), "deep negation");
    }
}
