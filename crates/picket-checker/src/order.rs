//! The order of command arguments, exactly as Icinga 2 produces it.
//!
//! Icinga sorts the arguments (taken in key order) by their integer
//! `order` with `std::sort` from GNU libstdc++, which is not stable: with
//! more than 16 arguments, those of equal order come out in an order that
//! only that algorithm produces. Plugins can depend on it (an ITL command
//! with 17 options and no `order` is common), so this is a step-for-step
//! port of libstdc++'s introsort — hand-written because no crate sorts
//! the way libstdc++ does.

use crate::command_line::Argument;

const THRESHOLD: usize = 16;

fn less(a: &Argument, b: &Argument) -> bool {
    a.order < b.order
}

/// Sorts as `std::sort(v.begin(), v.end(), [](a, b) { return a.order < b.order; })`.
pub(crate) fn sort_like_icinga(v: &mut [Argument]) {
    sort_by(v, less);
}

/// The algorithm on any slice, for the tests.
pub(crate) fn sort_by<T>(v: &mut [T], less: fn(&T, &T) -> bool) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let depth = 2 * (usize::BITS - 1 - n.leading_zeros()) as usize;
    introsort_loop(v, 0, n, depth, less);
    final_insertion_sort(v, 0, n, less);
}

fn introsort_loop<T>(
    v: &mut [T],
    first: usize,
    mut last: usize,
    mut depth: usize,
    less: fn(&T, &T) -> bool,
) {
    while last - first > THRESHOLD {
        if depth == 0 {
            heap_sort(&mut v[first..last], less);
            return;
        }
        depth -= 1;
        let cut = partition_pivot(v, first, last, less);
        introsort_loop(v, cut, last, depth, less);
        last = cut;
    }
}

fn partition_pivot<T>(v: &mut [T], first: usize, last: usize, less: fn(&T, &T) -> bool) -> usize {
    let mid = first + (last - first) / 2;
    move_median_to_first(v, first, first + 1, mid, last - 1, less);
    unguarded_partition(v, first + 1, last, first, less)
}

fn move_median_to_first<T>(
    v: &mut [T],
    result: usize,
    a: usize,
    b: usize,
    c: usize,
    less: fn(&T, &T) -> bool,
) {
    let pick = if less(&v[a], &v[b]) {
        if less(&v[b], &v[c]) {
            b
        } else if less(&v[a], &v[c]) {
            c
        } else {
            a
        }
    } else if less(&v[a], &v[c]) {
        a
    } else if less(&v[b], &v[c]) {
        c
    } else {
        b
    };
    v.swap(result, pick);
}

fn unguarded_partition<T>(
    v: &mut [T],
    mut first: usize,
    mut last: usize,
    pivot: usize,
    less: fn(&T, &T) -> bool,
) -> usize {
    loop {
        while less(&v[first], &v[pivot]) {
            first += 1;
        }
        last -= 1;
        while less(&v[pivot], &v[last]) {
            last -= 1;
        }
        if first >= last {
            return first;
        }
        v.swap(first, last);
        first += 1;
    }
}

fn final_insertion_sort<T>(v: &mut [T], first: usize, last: usize, less: fn(&T, &T) -> bool) {
    if last - first > THRESHOLD {
        insertion_sort(v, first, first + THRESHOLD, less);
        for i in first + THRESHOLD..last {
            unguarded_linear_insert(v, i, less);
        }
    } else {
        insertion_sort(v, first, last, less);
    }
}

fn insertion_sort<T>(v: &mut [T], first: usize, last: usize, less: fn(&T, &T) -> bool) {
    for i in first + 1..last {
        if less(&v[i], &v[first]) {
            // Move the element to the front, the rest one to the right.
            v[first..=i].rotate_right(1);
        } else {
            unguarded_linear_insert(v, i, less);
        }
    }
}

fn unguarded_linear_insert<T>(v: &mut [T], mut last: usize, less: fn(&T, &T) -> bool) {
    while less(&v[last], &v[last - 1]) {
        v.swap(last, last - 1);
        last -= 1;
    }
}

/// `std::__partial_sort(first, last, last)`: make_heap, then sort_heap.
fn heap_sort<T>(v: &mut [T], less: fn(&T, &T) -> bool) {
    let len = v.len();
    if len < 2 {
        return;
    }
    let mut parent = (len - 2) / 2;
    loop {
        adjust_heap(v, parent, len, less);
        if parent == 0 {
            break;
        }
        parent -= 1;
    }
    let mut last = len;
    while last > 1 {
        last -= 1;
        // __pop_heap: the top goes to `last`, the value from `last` sinks.
        v.swap(0, last);
        adjust_heap(&mut v[..last], 0, last, less);
    }
}

/// `std::__adjust_heap` with the value that starts at `hole`, followed by
/// `std::__push_heap`.
fn adjust_heap<T>(v: &mut [T], mut hole: usize, len: usize, less: fn(&T, &T) -> bool) {
    let top = hole;
    let mut second = hole;
    // The value being placed travels with the hole by swaps, so the slice
    // stays a permutation throughout.
    while second < (len - 1) / 2 {
        second = 2 * (second + 1);
        if less(&v[second], &v[second - 1]) {
            second -= 1;
        }
        v.swap(hole, second);
        hole = second;
    }
    if len.is_multiple_of(2) && second == (len - 2) / 2 {
        second = 2 * (second + 1);
        v.swap(hole, second - 1);
        hole = second - 1;
    }
    while hole > top {
        let parent = (hole - 1) / 2;
        if !less(&v[parent], &v[hole]) {
            break;
        }
        v.swap(hole, parent);
        hole = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorts (order, key) pairs by order, as the ITL's equal orders do.
    fn keys(orders: &[i64]) -> Vec<usize> {
        let mut v: Vec<(i64, usize)> = orders.iter().copied().zip(0..).collect();
        sort_by(&mut v, |a, b| a.0 < b.0);
        assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        v.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn small_inputs_keep_key_order() {
        assert_eq!(keys(&[0; 16]), (0..16).collect::<Vec<_>>());
        assert_eq!(keys(&[1, 0, 1, 0]), [1, 3, 0, 2]);
    }

    #[test]
    fn sorted_and_every_permutation_size() {
        for n in 0..200 {
            let orders: Vec<i64> = (0..n).map(|i| (i * 7919 % 13) as i64 - 6).collect();
            keys(&orders);
        }
    }

    #[test]
    fn heap_sort_sorts() {
        for n in 0..100 {
            let mut v: Vec<i64> = (0..n).map(|i| (i * 31 % 17) - 8).collect();
            heap_sort(&mut v, |a, b| a < b);
            assert!(v.windows(2).all(|w| w[0] <= w[1]), "{v:?}");
        }
    }
}
