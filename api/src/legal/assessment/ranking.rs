//! Each unit's total and its place: the higher total ranks first, equal
//! totals share a place and the next place skips (1, 2, 2, 4), and units
//! tied on the total are listed by name so that the order is stable.

use super::points::Points;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked<T> {
    pub rank: usize,
    pub total: Points,
    pub item: T,
}

/// `items` with their totals, ranked.
pub fn rank<T>(mut items: Vec<(T, Points)>, name: impl Fn(&T) -> &str) -> Vec<Ranked<T>> {
    items.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| name(a).cmp(name(b))));
    let mut out: Vec<Ranked<T>> = Vec::with_capacity(items.len());
    for (i, (item, total)) in items.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.total == total => prev.rank,
            _ => i + 1,
        };
        out.push(Ranked { rank, total, item });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_place_and_the_next_skips() {
        let items = vec![
            ("乙", Points(900)),
            ("甲", Points(955)),
            ("丁", Points(900)),
            ("丙", Points(850)),
        ];
        let r = rank(items, |s| s);
        let got: Vec<(usize, &str)> = r.iter().map(|r| (r.rank, r.item)).collect();
        assert_eq!(got, [(1, "甲"), (2, "丁"), (2, "乙"), (4, "丙")]);
        assert!(rank(Vec::<(&str, Points)>::new(), |s| s).is_empty());
    }
}
