//! Valid Fargate task sizes (74 combinations; `shared/review-criteria.md`).

/// Whether (cpu units, memory MiB) is a valid Fargate size for Linux.
pub fn valid_linux(cpu: u32, memory: u32) -> bool {
    valid_memory(cpu).any(|m| m == memory)
}

/// Windows on Fargate: at least 1 vCPU (1024, 2048, 4096) with the same memory steps.
pub fn valid_windows(cpu: u32, memory: u32) -> bool {
    matches!(cpu, 1024 | 2048 | 4096) && valid_linux(cpu, memory)
}

/// The valid memory values for a cpu value (empty for an invalid cpu).
pub fn valid_memory(cpu: u32) -> Box<dyn Iterator<Item = u32>> {
    match cpu {
        256 => Box::new([512, 1024, 2048].into_iter()),
        512 => Box::new((1..=4).map(|g| g * 1024)),
        1024 => Box::new((2..=8).map(|g| g * 1024)),
        2048 => Box::new((4..=16).map(|g| g * 1024)),
        4096 => Box::new((8..=30).map(|g| g * 1024)),
        8192 => Box::new((4..=15).map(|g| g * 4096)),
        16384 => Box::new((4..=15).map(|g| g * 8192)),
        _ => Box::new(std::iter::empty()),
    }
}

pub const CPUS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// The cheapest valid Linux size with at least `cpu` units and `memory`
/// MiB (Fargate's per-hour prices: a vCPU costs about 9× a GiB).
pub fn smallest_holding(cpu: f64, memory: f64) -> Option<(u32, u32)> {
    CPUS.iter()
        .flat_map(|c| valid_memory(*c).map(move |m| (*c, m)))
        .filter(|(c, m)| f64::from(*c) >= cpu && f64::from(*m) >= memory)
        .min_by(|a, b| {
            let cost = |(c, m): &(u32, u32)| f64::from(*c) * 9.1 + f64::from(*m);
            cost(a).total_cmp(&cost(b))
        })
}

/// The nearest valid size at or above the asked one (for remediation text).
pub fn nearest(cpu: u32, memory: u32) -> Option<(u32, u32)> {
    CPUS.iter()
        .filter(|c| **c >= cpu.min(16384))
        .flat_map(|c| valid_memory(*c).map(move |m| (*c, m)))
        .find(|(_, m)| *m >= memory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_74_valid_sizes_and_neighbours_fail() {
        let all: Vec<(u32, u32)> = CPUS
            .iter()
            .flat_map(|c| valid_memory(*c).map(move |m| (*c, m)))
            .collect();
        assert_eq!(all.len(), 74);
        for (c, m) in &all {
            assert!(valid_linux(*c, *m));
            assert!(!valid_linux(*c, m + 1), "{c}/{}", m + 1);
            assert!(!valid_linux(c + 1, *m));
        }
        assert!(!valid_linux(2048, 256), "the seed's 2048 cpu / 256 MiB");
        assert!(!valid_linux(256, 4096));
        assert!(!valid_linux(8192, 18432), "8 vCPU steps are 4 GiB");
        assert!(valid_windows(1024, 2048));
        assert!(!valid_windows(512, 1024));
        assert_eq!(nearest(2048, 256), Some((2048, 4096)));
        assert_eq!(nearest(256, 3000), Some((512, 3072)));
        assert_eq!(smallest_holding(300.0, 300.0), Some((512, 1024)));
        assert_eq!(smallest_holding(100.0, 3000.0), Some((512, 3072)));
        assert_eq!(smallest_holding(100.0, 100.0), Some((256, 512)));
        assert_eq!(smallest_holding(20_000.0, 1.0), None);
    }
}
