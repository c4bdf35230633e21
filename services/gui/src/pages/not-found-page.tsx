import { Link } from 'react-router';
import { EmptyState } from '../components/feedback.js';
import { PATHS } from '../routes.js';

export function NotFoundPage() {
  return (
    <EmptyState title="There is no page here" action={<Link to={PATHS.dashboard}>Go to the dashboard</Link>}>
      The address may be mistyped, or what it showed was deleted.
    </EmptyState>
  );
}
