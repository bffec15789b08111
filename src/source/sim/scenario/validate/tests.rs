use super::*;

#[test]
fn segments_split_keys_and_indices() {
    let s: Vec<String> = segments("load.curve[2][1]")
        .into_iter()
        .map(|s| match s {
            Seg::Key(k) => k.to_string(),
            Seg::Index(i) => format!("#{i}"),
        })
        .collect();
    assert_eq!(s, ["load", "curve", "#2", "#1"]);
}

#[test]
fn task_sizes() {
    for ok in ["256", "1024", " 512 ", "1 vCPU", "0.5 vCPU", "2 GB", "2GB"] {
        assert!(task_size_ok(ok), "{ok}");
    }
    for bad in ["", "0", "-1", "lots", "NaN vCPU", "inf GB", "1 TB", "0 GB"] {
        assert!(!task_size_ok(bad), "{bad}");
    }
}
