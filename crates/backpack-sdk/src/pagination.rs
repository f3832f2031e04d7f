//! Walking offset/limit list endpoints as a stream of items.

use std::future::Future;

use futures::stream::{self, Stream, TryStreamExt};

/// Streams every item of an offset/limit list endpoint.
///
/// `fetch(offset, limit)` returns one page. Pages are fetched lazily, one at
/// a time, when the previous page's items have been consumed. The stream
/// ends after a page shorter than `limit` (including an empty one), or after
/// the first error, which is yielded.
///
/// The next offset advances by the number of items actually received, so a
/// server that returns more than `limit` items is neither re-fetched nor
/// skipped. A `limit` of 0 is treated as 1.
///
/// ```
/// # use futures::TryStreamExt;
/// # async fn demo() -> Result<(), std::convert::Infallible> {
/// let items: Vec<u32> = (0..10).collect();
/// let all: Vec<u32> = backpack_sdk::paginate(3, |offset, limit| {
///     let page = items
///         .iter()
///         .copied()
///         .skip(offset as usize)
///         .take(limit as usize)
///         .collect::<Vec<_>>();
///     async move { Ok::<_, std::convert::Infallible>(page) }
/// })
/// .try_collect()
/// .await?;
/// assert_eq!(all, items);
/// # Ok(())
/// # }
/// ```
pub fn paginate<T, E, F, Fut>(limit: u32, fetch: F) -> impl Stream<Item = Result<T, E>>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let limit = limit.max(1);
    // State: the fetcher and the next offset, or `None` once the list ended.
    let pages = stream::try_unfold((fetch, Some(0u32)), move |(mut fetch, offset)| async move {
        let Some(offset) = offset else {
            return Ok(None);
        };
        let page = fetch(offset, limit).await?;
        let received = u32::try_from(page.len()).unwrap_or(u32::MAX);
        let next = if received < limit {
            None
        } else {
            // An offset past u32::MAX cannot be requested; stop there.
            offset.checked_add(received)
        };
        if page.is_empty() {
            return Ok(None);
        }
        Ok(Some((page, (fetch, next))))
    });
    pages
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::cell::RefCell;

    fn list(total: u32) -> Vec<u32> {
        (0..total).collect()
    }

    async fn walk(total: u32, limit: u32, ignore_limit: bool) -> (Vec<u32>, Vec<(u32, u32)>) {
        let items = list(total);
        let calls = RefCell::new(Vec::new());
        let got: Vec<u32> = paginate(limit, |offset, limit| {
            calls.borrow_mut().push((offset, limit));
            let take = if ignore_limit { limit * 2 } else { limit };
            let page: Vec<u32> = items
                .iter()
                .copied()
                .skip(offset as usize)
                .take(take as usize)
                .collect();
            async move { Ok::<_, ()>(page) }
        })
        .try_collect()
        .await
        .unwrap();
        (got, calls.into_inner())
    }

    #[tokio::test]
    async fn walks_exactly_once() {
        for (total, limit) in [(0, 10), (1, 10), (10, 10), (25, 10), (1000, 37), (5, 0)] {
            let (got, calls) = walk(total, limit, false).await;
            assert_eq!(got, list(total), "total {total} limit {limit}");
            let limit = limit.max(1);
            let expected_calls = total / limit + 1;
            assert_eq!(
                calls.len() as u32,
                expected_calls,
                "total {total} limit {limit}"
            );
            for (index, (offset, _)) in calls.iter().enumerate() {
                assert_eq!(*offset, index as u32 * limit);
            }
        }
    }

    #[tokio::test]
    async fn server_ignoring_limit_is_not_refetched() {
        let (got, calls) = walk(95, 10, true).await;
        assert_eq!(got, list(95));
        // At 80 the server sends 15 items: not short, so one more (empty) page.
        assert_eq!(
            calls,
            vec![(0, 10), (20, 10), (40, 10), (60, 10), (80, 10), (95, 10)]
        );
    }

    #[tokio::test]
    async fn stops_after_an_error() {
        let mut calls = 0;
        let results: Vec<Result<u32, &str>> = paginate(2, |offset, _| {
            calls += 1;
            async move {
                if offset == 0 {
                    Ok(vec![1, 2])
                } else {
                    Err("boom")
                }
            }
        })
        .collect()
        .await;
        assert_eq!(results, vec![Ok(1), Ok(2), Err("boom")]);
        assert_eq!(calls, 2);
    }
}
