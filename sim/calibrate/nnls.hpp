#pragma once
// Non-negative least squares: min ||A x - b|| subject to x >= 0 (Lawson and Hanson, "Solving Least
// Squares Problems", 1974, ch. 23). Cost curves are sums of physical costs, so no term may be
// negative: a negative slope fitted to noise would predict negative times beyond the data.
#include <Eigen/Dense>
#include <vector>

namespace moesim::sim {

// `b_norm`, when not negative, is ||b|| of the rows `a` and `b` stand for (QR-compressed rows:
// compressed_rows.hpp), so the tolerance is the one the rows themselves would get. `start`, when
// not empty, names the columns expected non-zero (a fit to nearly the same rows): when the least
// squares over them is positive and no other column would lower the error (the Kuhn-Tucker
// conditions, which make it the optimum), it is returned without iterating from zero.
Eigen::VectorXd non_negative_least_squares(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                                           double b_norm = -1, const std::vector<bool>& start = {});

}  // namespace moesim::sim
