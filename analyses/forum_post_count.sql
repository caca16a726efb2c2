-- Number of forum posts: all posts (discussion openers and replies), those written by
-- learners of the post's course, and the discussions they are in, per course.

with

posts as (
    select * from {{ ref('fact_forum_post') }}
),

course_learners as (
    select * from {{ ref('int_course_learners_identified') }}
),

posts_counted as (
    select
        posts.course_id,
        count(*) as forum_post_count,
        sum(case when course_learners.user_id is not null then 1 else 0 end)
            as learner_forum_post_count,
        count(distinct posts.forum_discussion_id) as forum_discussion_count
    from posts
    left join course_learners
        on
            posts.course_id = course_learners.course_id
            and posts.user_id = course_learners.user_id
    group by posts.course_id
)

select * from posts_counted
order by course_id
