# Reference values for pytest_iotops/deploy/stats.py, produced once with Debian's R (r-base-core) by
#   Rscript tests/data/r-reference.R > tests/data/r-reference.json
# The Python tests compare against the committed JSON; they do not need R.
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
cases <- list()
set.seed(20261127)
add_case <- function(name, x, y) {
  r <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE, conf.level = 0.95))
  cases[[length(cases) + 1]] <<- sprintf(
    '{"name": "%s", "x": %s, "y": %s, "w": %.17g, "p_value": %.17g, "shift": %.17g, "ci_low": %.17g, "ci_high": %.17g}',
    name, num(x), num(y), r$statistic, r$p.value, r$estimate, r$conf.int[1], r$conf.int[2])
}
add_case("exact-small", round(rnorm(8, 10, 2), 3), round(rnorm(9, 11, 2), 3))
add_case("exact-shifted", round(rnorm(20, 120, 10), 4), round(rnorm(25, 100, 10), 4))
add_case("exact-unequal", round(rexp(5, 1/50), 3), round(rexp(30, 1/40), 3))
add_case("ties-latency-ms", round(rnorm(40, 50, 5)), round(rnorm(35, 52, 5)))
add_case("large-normal", round(rnorm(120, 30, 4), 2), round(rnorm(150, 30.5, 4), 2))
add_case("large-plus-200ms", round(rlnorm(80, log(40), 0.3) + 200, 1), round(rlnorm(90, log(40), 0.3), 1))
add_case("identical-distribution", round(runif(60, 0, 100), 2), round(runif(70, 0, 100), 2))
fisher <- c()
for (e in list(c(10, 100, 2, 100), c(0, 50, 0, 500), c(3, 20, 1, 200), c(20, 100, 19, 100), c(1, 1000, 5, 1000))) {
  p <- fisher.test(matrix(c(e[1], e[2] - e[1], e[3], e[4] - e[3]), nrow = 2), alternative = "greater")$p.value
  fisher <- c(fisher, sprintf('{"counts": %s, "p_value": %.17g}', num(e), p))
}
cat(sprintf('{"r_version": "%s",\n "wilcox": [\n  %s\n ],\n "fisher": [\n  %s\n ]\n}\n',
            R.version.string, paste(cases, collapse = ",\n  "), paste(fisher, collapse = ",\n  ")))
