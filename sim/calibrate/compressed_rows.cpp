#include "sim/calibrate/compressed_rows.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/calibrate/nnls.hpp"

namespace moesim::sim {
namespace {

// Rotates row i of `rows` (with right-hand side b) into R and d by Givens rotations against R's
// diagonal; the row is left zeroed, its residual dropped.
void rotate_in(CompressedRows& into, Eigen::MatrixXd& rows, Eigen::Index i, double b) {
  Eigen::MatrixXd& r = into.r;
  const Eigen::Index columns = r.cols();
  for (Eigen::Index j = 0; j < columns; ++j) {
    if (rows(i, j) == 0) continue;
    // (not std::hypot: four times slower here; rows over layer time stay far below 1e154, where a
    // square would overflow)
    const double radius = std::sqrt(r(j, j) * r(j, j) + rows(i, j) * rows(i, j));
    const double c = r(j, j) / radius;
    const double s = rows(i, j) / radius;
    for (Eigen::Index l = j; l < columns; ++l) {
      const double top = r(j, l);
      r(j, l) = c * top + s * rows(i, l);
      rows(i, l) = c * rows(i, l) - s * top;
    }
    const double top = into.d(j);
    into.d(j) = c * top + s * b;
    b = c * b - s * top;
  }
}

// The rows of y rotated into x (in place): R's and d's of both, as one QR of the stacked rows.
void merge_into(CompressedRows& x, const CompressedRows& y) {
  if (y.empty()) return;
  Eigen::MatrixXd rows = y.r;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) rotate_in(x, rows, i, y.d(i));
  x.rows += y.rows;
  x.b_squared += y.b_squared;
  x.column_max = x.column_max.cwiseMax(y.column_max);
}

}  // namespace

CompressedRows no_rows(Eigen::Index columns) {
  CompressedRows rows;
  rows.r = Eigen::MatrixXd::Zero(columns, columns);
  rows.d = Eigen::VectorXd::Zero(columns);
  rows.column_max = Eigen::VectorXd::Zero(columns);
  return rows;
}

CompressedRows compress_rows(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  CompressedRows out = no_rows(a.cols());
  if (a.rows() == 0) return out;
  Eigen::MatrixXd rows = a;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) rotate_in(out, rows, i, b(i));
  out.rows = a.rows();
  out.b_squared = b.squaredNorm();
  out.column_max = a.cwiseAbs().colwise().maxCoeff().transpose();
  return out;
}

CompressedRows merge_rows(const CompressedRows& x, const CompressedRows& y) {
  CompressedRows out = x;
  merge_into(out, y);
  return out;
}

std::vector<CompressedRows> all_but_each(const std::vector<CompressedRows>& blocks) {
  const std::size_t count = blocks.size();
  if (count == 0) return {};
  const Eigen::Index columns = blocks.front().r.cols();
  // before[i]: blocks 0..i-1; `after`: blocks i+1..count-1, built from the back.
  std::vector<CompressedRows> before(count, no_rows(columns));
  for (std::size_t i = 1; i < count; ++i) {
    before[i] = before[i - 1];
    merge_into(before[i], blocks[i - 1]);
  }
  CompressedRows after = no_rows(columns);
  for (std::size_t i = count; i-- > 0;) {
    merge_into(before[i], after);  // before[i] becomes every block but i
    merge_into(after, blocks[i]);
  }
  return before;
}

std::vector<double> fit_compressed(const CompressedRows& rows, const std::vector<bool>& start) {
  const Eigen::Index columns = rows.r.cols();
  Eigen::VectorXd scale = rows.column_max;
  for (Eigen::Index j = 0; j < columns; ++j)
    if (!(scale(j) > 0)) scale(j) = 1;
  const Eigen::VectorXd x = non_negative_least_squares(rows.r * scale.cwiseInverse().asDiagonal(),
                                                       rows.d, std::sqrt(rows.b_squared), start);
  std::vector<double> coefficients(static_cast<std::size_t>(columns));
  for (Eigen::Index j = 0; j < columns; ++j)
    coefficients[static_cast<std::size_t>(j)] = x(j) / scale(j);
  return coefficients;
}

LeaveOneRowOut::LeaveOneRowOut(const CompressedRows& rows, const std::vector<double>& coefficients)
    : b_squared_(rows.b_squared) {
  const Eigen::Index columns = rows.r.cols();
  if (columns > kMaxColumns) return;  // no kept columns: every call refits
  scale_ = rows.column_max;
  for (Eigen::Index j = 0; j < columns; ++j)
    if (!(scale_(j) > 0)) scale_(j) = 1;
  r_ = rows.r * scale_.cwiseInverse().asDiagonal();
  d_ = rows.d;
  a_squared_ = r_.squaredNorm();
  x_.resize(columns);
  for (Eigen::Index j = 0; j < columns; ++j) {
    x_(j) = coefficients[static_cast<std::size_t>(j)] * scale_(j);
    if (x_(j) > 0) kept_.push_back(j);
  }
  Matrix kept_columns(columns, static_cast<Eigen::Index>(kept_.size()));
  for (std::size_t k = 0; k < kept_.size(); ++k)
    kept_columns.col(static_cast<Eigen::Index>(k)) = r_.col(kept_[k]);
  const Eigen::HouseholderQR<Matrix> qr(kept_columns);
  const auto kept = static_cast<Eigen::Index>(kept_.size());
  r_kept_ = qr.matrixQR().topRows(std::min(kept, columns)).triangularView<Eigen::Upper>();
}

std::optional<std::vector<double>> LeaveOneRowOut::without(Row a, double b) const {
  const auto kept = static_cast<Eigen::Index>(kept_.size());
  if (kept == 0 || r_kept_.rows() < kept) return std::nullopt;
  const Vector row = a.transpose().cwiseQuotient(scale_);
  Vector row_kept(kept);
  for (Eigen::Index k = 0; k < kept; ++k) row_kept(k) = row(kept_[static_cast<std::size_t>(k)]);
  const Vector u = r_kept_.transpose().triangularView<Eigen::Lower>().solve(row_kept);
  const double leverage = u.squaredNorm();
  if (!(leverage < 1 - 1e-6)) return std::nullopt;
  const Vector shift =
      r_kept_.triangularView<Eigen::Upper>().solve(u) * ((b - row.dot(x_)) / (1 - leverage));
  Vector y = x_;
  for (Eigen::Index k = 0; k < kept; ++k) y(kept_[static_cast<std::size_t>(k)]) -= shift(k);
  // The smaller problem's gradient: all rows' (R^T (d - R y)) less the row's own.
  const Vector residual = d_ - r_ * y;
  const Vector gradient = r_.transpose() * residual - row * (b - row.dot(y));
  const double tolerance = 1e-12 * (1 + std::sqrt(std::max(0.0, a_squared_ - row.squaredNorm())) *
                                            std::sqrt(std::max(0.0, b_squared_ - b * b)));
  std::vector<double> coefficients(static_cast<std::size_t>(y.size()));
  for (Eigen::Index j = 0; j < y.size(); ++j) {
    if (x_(j) > 0 ? !(y(j) > tolerance) : gradient(j) > tolerance) return std::nullopt;
    coefficients[static_cast<std::size_t>(j)] = y(j) / scale_(j);
  }
  return coefficients;
}

}  // namespace moesim::sim
