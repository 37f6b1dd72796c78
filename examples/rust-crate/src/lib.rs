//! Calibration of raw sensor readings on the device side.

/// Linear calibration: `value = raw * gain + offset`, clamped to the sensor's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub gain: f64,
    pub offset: f64,
    pub min: f64,
    pub max: f64,
}

impl Calibration {
    pub fn apply(&self, raw: u16) -> f64 {
        (f64::from(raw) * self.gain + self.offset).clamp(self.min, self.max)
    }
}

/// Mean of the readings, or `None` when there are none.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_range() {
        let c = Calibration { gain: 0.1, offset: -40.0, min: -40.0, max: 125.0 };
        assert_eq!(c.apply(0), -40.0);
        assert_eq!(c.apply(u16::MAX), 125.0);
        assert!((c.apply(650) - 25.0).abs() < 1e-9);
    }

    #[test]
    fn mean_of_nothing_is_none() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 3.0]), Some(2.0));
    }
}
